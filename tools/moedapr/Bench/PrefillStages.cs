using System.Globalization;
using MoeDapr.Cli.Statistics;

namespace MoeDapr.Cli.Bench;

/// <summary>Prefill's per-stage times (its Server-Timing header), medians per stage.</summary>
internal sealed class PrefillStages
{
    private readonly Dictionary<string, List<double>> _stages = new(StringComparer.Ordinal);

    public void Add(string serverTiming)
    {
        foreach (var part in serverTiming.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = part.Split(';');
            var duration = fields.Skip(1).FirstOrDefault(f => f.StartsWith("dur=", StringComparison.Ordinal));
            if (duration is not null && double.TryParse(duration.AsSpan(4), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms))
            {
                if (!_stages.TryGetValue(fields[0], out var list))
                {
                    _stages[fields[0]] = list = [];
                }

                list.Add(ms);
            }
        }
    }

    public string Describe() => _stages.Count == 0
        ? "none reported"
        : string.Join("  ", _stages.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {SampleStatistics.Median(s.Value):F1}")));
}
