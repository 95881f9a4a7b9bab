using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Api;

/// <summary>What the router sees: queue and workers.</summary>
public sealed record RouterState(int Waiting, bool DisaggregationAvailable, bool KvTransferHealthy, bool Degraded, IReadOnlyList<WorkerStatus> Workers);
