using MoeDapr.Cli.Statistics;

namespace MoeDapr.Cli.Loadtest;

/// <summary>The arithmetic of a load-test report.</summary>
public static class LoadtestStatistics
{
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
            SampleStatistics.Percentile(sorted, 50),
            SampleStatistics.Percentile(sorted, 90),
            SampleStatistics.Percentile(sorted, 99),
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
