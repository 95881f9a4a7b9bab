namespace MoeDapr.Router.Api;

/// <summary>State of degraded mode.</summary>
public sealed record DegradedState(bool Enabled, int MaxBatchSize, double QueueTimeoutSeconds);
