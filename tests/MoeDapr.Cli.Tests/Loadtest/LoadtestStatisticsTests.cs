using MoeDapr.Cli.Loadtest;

namespace MoeDapr.Cli.Tests.Loadtest;

public sealed class LoadtestStatisticsTests
{
    [Fact]
    public void Summarize_OneToHundred_MatchesNumpyPercentiles()
    {
        var summary = LoadtestStatistics.Summarize(Enumerable.Range(1, 100).Select(i => (double)i).Reverse());

        Assert.NotNull(summary);
        Assert.Equal(100, summary.Count);
        Assert.Equal(50.5, summary.Mean, 12);
        Assert.Equal(50.5, summary.P50, 12);
        Assert.Equal(90.1, summary.P90, 12);
        Assert.Equal(99.01, summary.P99, 12);
        Assert.Equal(100, summary.Max);
    }

    [Fact]
    public void Summarize_NoValues_IsNull()
    {
        Assert.Null(LoadtestStatistics.Summarize([]));
    }

    [Fact]
    public void TpotMs_StreamedAnswer_SpreadsDecodeTimeOverTokensAfterTheFirst()
    {
        var result = new CompletionResult { Outcome = RequestOutcome.Ok, TtftMs = 100, E2eMs = 400, OutputTokens = 4 };

        Assert.Equal(100, result.TpotMs);
    }

    [Theory]
    [InlineData(100.0, 30.0, true)]
    [InlineData(250.0, 30.0, false)]
    [InlineData(100.0, 80.0, false)]
    [InlineData(200.0, 50.0, true)]
    public void MeetsSlo_ComparesTtftAndTpotWithTheirObjectives(double ttft, double tpot, bool expected)
    {
        // Two tokens: TPOT = e2e − TTFT.
        var result = new CompletionResult { Outcome = RequestOutcome.Ok, TtftMs = ttft, E2eMs = ttft + tpot, OutputTokens = 2 };

        Assert.Equal(expected, LoadtestStatistics.MeetsSlo(result, sloTtftMs: 200, sloTpotMs: 50));
    }

    [Fact]
    public void MeetsSlo_RejectedRequest_NeverCounts()
    {
        var result = new CompletionResult { Outcome = RequestOutcome.Rejected, E2eMs = 1 };

        Assert.False(LoadtestStatistics.MeetsSlo(result, null, null));
    }

    [Fact]
    public void MeetsSlo_NoObjectives_EveryCompletedRequestCounts()
    {
        var result = new CompletionResult { Outcome = RequestOutcome.Ok, E2eMs = 60_000, OutputTokens = 1 };

        Assert.True(LoadtestStatistics.MeetsSlo(result, null, null));
    }

    [Fact]
    public void Create_KnownRequests_GoodputCountsOnlyRequestsWithinObjectives()
    {
        var settings = new LoadtestSettings
        {
            Url = "http://localhost/",
            DurationSeconds = 2,
            TargetQps = 2,
            MaxNewTokens = 3,
            PromptLengthMin = 1,
            PromptLengthMax = 1,
            Stream = true,
            SloTtftMs = 100,
        };
        CompletionResult[] results =
        [
            new() { Outcome = RequestOutcome.Ok, TtftMs = 50, E2eMs = 90, OutputTokens = 3, ItlMs = [20, 20] },
            new() { Outcome = RequestOutcome.Ok, TtftMs = 150, E2eMs = 190, OutputTokens = 3, ItlMs = [20, 20] },
            new() { Outcome = RequestOutcome.Rejected, Status = 429, E2eMs = 2 },
            new() { Outcome = RequestOutcome.Failed, Error = "http 500: boom", E2eMs = 5 },
            new() { Outcome = RequestOutcome.Dropped },
        ];
        // Each sent 3 ms after its scheduled time.
        var records = results.Select((r, i) => new RequestRecord(i, i * 100, (i * 100) + 3, 1, r)).ToList();

        var report = LoadtestReport.Create(settings, new LoadtestResult(records, TimeSpan.FromSeconds(4), DateTimeOffset.UnixEpoch, false), "m");

        Assert.Equal(1, report.Goodput.GoodRequests);
        Assert.Equal(0.25, report.Goodput.RequestsPerSecond, 12);
        Assert.Equal(0.2, report.Goodput.FractionOfArrivals, 12);
        Assert.Equal(0.5, report.Throughput.RequestsPerSecond, 12);
        Assert.Equal(1.5, report.Throughput.OutputTokensPerSecond, 12);
        Assert.Equal(4, report.Counts.Sent);
        Assert.Equal(1, report.Counts.FailureReasons["http 500"]);
        Assert.Equal(4, report.LatencyMs.Itl!.Count);
        Assert.Equal(2, report.LatencyMs.Rejection!.P99, 12);
        Assert.Equal(3, report.LatencyMs.ScheduleLag!.Max, 12);
    }
}
