using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MoeDapr.Prefill;

/// <summary>
/// Milliseconds one batch spent in each stage, summed over its sequences; answered as a <c>Server-Timing</c> header
/// so a caller (or <c>moedapr bench serving</c>) can see where time to first token goes.
/// </summary>
public sealed class PrefillStageTimes
{
    private readonly Dictionary<string, double> _stages = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>Adds the time since <paramref name="startedTimestamp"/> (a <see cref="Stopwatch"/> timestamp) to <paramref name="stage"/>; returns now.</summary>
    public long Lap(string stage, long startedTimestamp)
    {
        var now = Stopwatch.GetTimestamp();
        var ms = Stopwatch.GetElapsedTime(startedTimestamp, now).TotalMilliseconds;
        lock (_stages)
        {
            if (_stages.TryGetValue(stage, out var sum))
            {
                _stages[stage] = sum + ms;
            }
            else
            {
                _stages[stage] = ms;
                _order.Add(stage);
            }
        }

        return now;
    }

    /// <summary>The stages as a Server-Timing value: <c>engine;dur=41.2, kv-allocate;dur=0.9, ...</c>.</summary>
    public string ToServerTiming()
    {
        var text = new StringBuilder();
        lock (_stages)
        {
            foreach (var stage in _order)
            {
                if (text.Length > 0)
                {
                    text.Append(", ");
                }

                text.Append(CultureInfo.InvariantCulture, $"{stage};dur={_stages[stage]:F2}");
            }
        }

        return text.ToString();
    }
}
