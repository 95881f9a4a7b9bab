using System.Globalization;

namespace MoeDapr.Cli.Statistics;

/// <summary>Medians, quartiles and percentiles of measured samples, for every bench and the load test alike.</summary>
public static class SampleStatistics
{
    /// <summary>
    /// The <paramref name="percent"/>-th percentile of ascending <paramref name="sorted"/>, interpolating linearly
    /// between the two nearest ranks (numpy's default), so p50 of [1, 2, 3, 4] is 2.5.
    /// </summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            throw new ArgumentException("no values to take a percentile of.", nameof(sorted));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        var rank = percent / 100 * (sorted.Count - 1);
        var lower = (int)Math.Floor(rank);
        var upper = Math.Min(lower + 1, sorted.Count - 1);
        return sorted[lower] + ((rank - lower) * (sorted[upper] - sorted[lower]));
    }

    /// <summary>The percentile of <paramref name="values"/> in any order; NaN when there are none (a bench prints it as such).</summary>
    public static double PercentileOf(IEnumerable<double> values, double percent)
    {
        var sorted = Sorted(values);
        return sorted.Length == 0 ? double.NaN : Percentile(sorted, percent);
    }

    /// <summary>
    /// The median of <paramref name="values"/> in any order (the mean of the two middle values for an even count);
    /// NaN when there are none. The input is not reordered, so callers may keep rounds matched by index.
    /// </summary>
    public static double Median(IEnumerable<double> values) => PercentileOf(values, 50);

    /// <summary>The lower and upper quartiles (25th and 75th percentiles); NaN for both when there are no values.</summary>
    public static (double Lower, double Upper) Quartiles(IEnumerable<double> values)
    {
        var sorted = Sorted(values);
        return sorted.Length == 0 ? (double.NaN, double.NaN) : (Percentile(sorted, 25), Percentile(sorted, 75));
    }

    /// <summary>The quartiles as "q1–q3" with two decimals.</summary>
    public static string QuartileRange(IEnumerable<double> values)
    {
        var (lower, upper) = Quartiles(values);
        return string.Create(CultureInfo.InvariantCulture, $"{lower:F2}–{upper:F2}");
    }

    private static double[] Sorted(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted;
    }
}
