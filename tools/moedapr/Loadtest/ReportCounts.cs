namespace MoeDapr.Cli.Loadtest;

/// <summary>
/// How arrivals ended. <c>arrivals</c> = <c>sent</c> + <c>dropped</c>; <c>sent</c> = <c>ok</c> + <c>rejected</c> (429)
/// + <c>timed_out</c> (503) + <c>failed</c>.
/// </summary>
public sealed record ReportCounts(
    int Arrivals, int Sent, int Ok, int Rejected, int TimedOut, int Failed, int Dropped, IReadOnlyDictionary<string, int> FailureReasons);
