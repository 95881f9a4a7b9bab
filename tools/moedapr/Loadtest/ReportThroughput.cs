namespace MoeDapr.Cli.Loadtest;

/// <summary>Rates over the elapsed time of the run (the offered rate over the arrival window).</summary>
public sealed record ReportThroughput(double OfferedQps, double RequestsPerSecond, long OutputTokens, double OutputTokensPerSecond);
