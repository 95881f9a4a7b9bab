using System.Text.Json.Serialization;

namespace MoeDapr.Cli.Loadtest;

/// <summary>Mean and percentiles of one latency, in milliseconds.</summary>
public sealed record LatencySummary(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("p50")] double P50,
    [property: JsonPropertyName("p90")] double P90,
    [property: JsonPropertyName("p99")] double P99,
    [property: JsonPropertyName("max")] double Max);

/// <summary>The arithmetic of a load-test report.</summary>
public static class LoadtestStatistics
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

    /// <summary>Summary of <paramref name="values"/>, or null when there are none.</summary>
    public static LatencySummary? Summarize(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        return new LatencySummary(
            sorted.Length,
            sorted.Average(),
            Percentile(sorted, 50),
            Percentile(sorted, 90),
            Percentile(sorted, 99),
            sorted[^1]);
    }

    /// <summary>
    /// A request counts toward goodput when it completed and met every objective given: TTFT within
    /// <paramref name="sloTtftMs"/> and TPOT within <paramref name="sloTpotMs"/> (a one-token answer has no TPOT and meets
    /// that objective).
    /// </summary>
    public static bool MeetsSlo(CompletionResult result, double? sloTtftMs, double? sloTpotMs)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Outcome != RequestOutcome.Ok)
        {
            return false;
        }

        if (sloTtftMs is { } ttftLimit && (result.TtftMs is not { } ttft || ttft > ttftLimit))
        {
            return false;
        }

        return sloTpotMs is not { } tpotLimit || result.TpotMs is not { } tpot || tpot <= tpotLimit;
    }

    /// <summary>The coarse kind of a failure, for counting: the text before the first ": " of its error.</summary>
    public static string FailureReason(CompletionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var error = result.Error ?? "unknown";
        var colon = error.IndexOf(": ", StringComparison.Ordinal);
        return colon < 0 ? error : error[..colon];
    }
}
