namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>One row of docs/metrics.md.</summary>
internal sealed record MetricDoc(string Name, string Type, IReadOnlyList<string> Labels, string Unit, string ExportedBy, string Meaning);

/// <summary>The metrics listed in docs/metrics.md: rows of its tables whose first cell is a backticked name.</summary>
internal sealed partial class MetricsCatalog
{
    private static readonly string[] HistogramSuffixes = ["_bucket", "_sum", "_count"];

    private MetricsCatalog(IReadOnlyDictionary<string, MetricDoc> metrics) => Metrics = metrics;

    public IReadOnlyDictionary<string, MetricDoc> Metrics { get; }

    public static MetricsCatalog Load(string path)
    {
        var metrics = new Dictionary<string, MetricDoc>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal))
            {
                continue;
            }

            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (cells.Length != 6)
            {
                throw new InvalidDataException($"{path}: a metric row needs 6 cells (name, type, labels, unit, exported by, meaning): {line}");
            }

            var name = cells[0].Trim('`');
            var labels = cells[2] == "—" ? [] : cells[2].Split(',').Select(l => l.Trim().Trim('`')).ToList();
            if (!metrics.TryAdd(name, new MetricDoc(name, cells[1], labels, cells[3], cells[4], cells[5])))
            {
                throw new InvalidDataException($"{path}: {name} is listed twice.");
            }
        }

        return new MetricsCatalog(metrics);
    }

    /// <summary>Whether a series name a query uses is documented (histogram series map to their histogram).</summary>
    public bool Documents(string seriesName)
    {
        if (Metrics.ContainsKey(seriesName))
        {
            return true;
        }

        foreach (var suffix in HistogramSuffixes)
        {
            if (seriesName.EndsWith(suffix, StringComparison.Ordinal) &&
                Metrics.TryGetValue(seriesName[..^suffix.Length], out var doc) &&
                doc.Type is "histogram" or "summary")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The series names in <paramref name="promQl"/> that docs/metrics.md does not list.</summary>
    public IReadOnlyList<string> Undocumented(string promQl) => PromQl.MetricNames(promQl).Where(n => !Documents(n)).ToList();

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    public static partial Regex ValidName();
}
