using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeDapr.Cli.Loadtest;

/// <summary>The outcome of a load test: what the console summary shows and the JSON file holds.</summary>
public sealed record LoadtestReport
{
    /// <summary>How the report is written: snake_case, as the figures of vLLM's and SGLang's benchmarks read.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public required ReportConfig Config { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Start of the run to the end of its last request, in seconds: the denominator of every rate.</summary>
    public required double ElapsedSeconds { get; init; }

    /// <summary>The run was stopped (Ctrl+C) before its schedule ended.</summary>
    public required bool Cancelled { get; init; }

    public required ReportCounts Counts { get; init; }

    public required ReportThroughput Throughput { get; init; }

    public required ReportLatency LatencyMs { get; init; }

    public required ReportGoodput Goodput { get; init; }

    /// <summary>Every arrival, for re-plotting or other statistics.</summary>
    public required IReadOnlyList<ReportRequest> Requests { get; init; }

    /// <summary>Computes the report of a finished run.</summary>
    public static LoadtestReport Create(LoadtestSettings settings, LoadtestResult result, string model)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(result);
        var records = result.Requests;
        var seconds = Math.Max(result.Elapsed.TotalSeconds, 1e-9);
        var ok = records.Where(r => r.Result.Outcome == RequestOutcome.Ok).Select(r => r.Result).ToList();
        var good = ok.Count(r => LoadtestStatistics.MeetsSlo(r, settings.SloTtftMs, settings.SloTpotMs));
        var outputTokens = ok.Sum(r => (long)r.OutputTokens);
        int Count(RequestOutcome outcome) => records.Count(r => r.Result.Outcome == outcome);

        return new LoadtestReport
        {
            Config = new ReportConfig(
                settings.CompletionsUrl.ToString(), model, settings.DurationSeconds, settings.TargetQps, settings.MaxNewTokens,
                settings.PromptLengthMin, settings.PromptLengthMax, settings.Concurrency, settings.Stream, settings.SloTtftMs,
                settings.SloTpotMs, settings.Seed, settings.RequestTimeoutSeconds, settings.SharedPrefixLength, settings.SharedPrefixes),
            StartedAt = result.StartedAt,
            ElapsedSeconds = result.Elapsed.TotalSeconds,
            Cancelled = result.Cancelled,
            Counts = new ReportCounts(
                records.Count,
                records.Count - Count(RequestOutcome.Dropped),
                ok.Count,
                Count(RequestOutcome.Rejected),
                Count(RequestOutcome.TimedOut),
                Count(RequestOutcome.Failed),
                Count(RequestOutcome.Dropped),
                records.Where(r => r.Result.Outcome == RequestOutcome.Failed)
                    .GroupBy(r => LoadtestStatistics.FailureReason(r.Result))
                    .OrderBy(g => g.Key, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.Count())),
            Throughput = new ReportThroughput(
                records.Count / settings.DurationSeconds,
                ok.Count / seconds,
                outputTokens,
                outputTokens / seconds),
            LatencyMs = new ReportLatency(
                LoadtestStatistics.Summarize(ok.Where(r => r.TtftMs.HasValue).Select(r => r.TtftMs!.Value)),
                LoadtestStatistics.Summarize(ok.Where(r => r.TpotMs.HasValue).Select(r => r.TpotMs!.Value)),
                LoadtestStatistics.Summarize(ok.SelectMany(r => r.ItlMs)),
                LoadtestStatistics.Summarize(ok.Select(r => r.E2eMs)),
                LoadtestStatistics.Summarize(records.Where(r => r.Result.Outcome == RequestOutcome.Rejected).Select(r => r.Result.E2eMs)),
                LoadtestStatistics.Summarize(records.Select(r => r.SentMs - r.ScheduledMs))),
            Goodput = new ReportGoodput(
                good,
                good / seconds,
                records.Count == 0 ? 0 : (double)good / records.Count,
                settings.SloTtftMs,
                settings.SloTpotMs),
            Requests = [.. records.Select(r => new ReportRequest(
                r.Index, r.ScheduledMs, r.SentMs, r.PromptWords, r.Result.Outcome, r.Result.Status, r.Result.TtftMs, r.Result.TpotMs,
                r.Result.Outcome == RequestOutcome.Dropped ? null : r.Result.E2eMs, r.Result.OutputTokens, r.Result.Error))],
        };
    }
}
