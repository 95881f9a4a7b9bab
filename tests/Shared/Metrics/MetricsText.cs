using System.Globalization;
using System.Text.RegularExpressions;

namespace MoeDapr.Tests.Shared;

/// <summary>Samples of a Prometheus text exposition, by metric name and labels.</summary>
public sealed partial class MetricsText
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    public MetricsText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = Sample().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var labels = Label().Matches(match.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            _samples.Add((match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Every sample of <paramref name="name"/>, with its labels.</summary>
    public IReadOnlyList<(Dictionary<string, string> Labels, double Value)> All(string name) =>
        _samples.Where(s => s.Name == name).Select(s => (s.Labels, s.Value)).ToList();

    /// <summary>The one sample of <paramref name="name"/> carrying <paramref name="labels"/> (name=value pairs).</summary>
    public double Value(string name, params (string Key, string Value)[] labels)
    {
        var found = _samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
        Assert.True(found.Count == 1, $"{found.Count} samples of {name}{{{string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"))}}}");
        return found[0].Value;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)""")]
    private static partial Regex Sample();

    [GeneratedRegex("""(\w+)="([^"]*)""")]
    private static partial Regex Label();
}
