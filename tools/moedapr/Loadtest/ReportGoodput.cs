namespace MoeDapr.Cli.Loadtest;

/// <summary>Completed requests that met every objective given, per second and as a share of all arrivals.</summary>
public sealed record ReportGoodput(int GoodRequests, double RequestsPerSecond, double FractionOfArrivals, double? SloTtftMs, double? SloTpotMs);
