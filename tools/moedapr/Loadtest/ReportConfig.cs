namespace MoeDapr.Cli.Loadtest;

/// <summary>The settings a report was produced with.</summary>
public sealed record ReportConfig(
    string Url, string Model, double DurationSeconds, double TargetQps, int MaxNewTokens, int PromptLenMin, int PromptLenMax,
    int? Concurrency, bool Stream, double? SloTtftMs, double? SloTpotMs, int Seed, double RequestTimeoutSeconds,
    int SharedPrefixLen = 0, int SharedPrefixes = 1);
