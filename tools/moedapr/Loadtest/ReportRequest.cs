namespace MoeDapr.Cli.Loadtest;

/// <summary>One arrival as the report lists it (times in milliseconds from the start of the run, latencies in milliseconds).</summary>
public sealed record ReportRequest(
    int Index, double ScheduledMs, double SentMs, int PromptWords, RequestOutcome Outcome, int? Status, double? TtftMs, double? TpotMs,
    double? E2eMs, int OutputTokens, string? Error);
