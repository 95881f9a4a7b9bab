namespace MoeDapr.Cli.Loadtest;

/// <summary>
/// Latencies of completed requests, of 429 answers (<c>rejection</c>), and how late the client sent each arrival
/// (<c>schedule_lag</c>: a large lag means the client, not the server, limited the offered load); null where nothing
/// was measured.
/// </summary>
public sealed record ReportLatency(
    LatencySummary? Ttft, LatencySummary? Tpot, LatencySummary? Itl, LatencySummary? E2e, LatencySummary? Rejection, LatencySummary? ScheduleLag);
