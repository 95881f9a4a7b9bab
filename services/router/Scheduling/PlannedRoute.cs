namespace MoeDapr.Router.Scheduling;

/// <summary>
/// Where a planned job goes: its serving path (one of <see cref="Contracts.ServingPaths"/>), its decode worker, and on
/// the disaggregated path its prefill worker.
/// </summary>
public sealed record PlannedRoute(GenerationJob Job, string Path, string DecodeAppId, string? PrefillAppId = null);
