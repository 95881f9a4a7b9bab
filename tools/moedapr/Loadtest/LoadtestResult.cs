namespace MoeDapr.Cli.Loadtest;

/// <summary>Every request of a finished run, in arrival order, and how long the run took.</summary>
public sealed record LoadtestResult(IReadOnlyList<RequestRecord> Requests, TimeSpan Elapsed, DateTimeOffset StartedAt, bool Cancelled);
