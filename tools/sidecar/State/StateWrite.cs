namespace MoeDapr.Sidecar.State;

/// <summary>
/// One write as a client sent it, in either protocol: the caller's key (no prefix yet), the value (null for a delete),
/// the etag, the concurrency mode and the ttlInSeconds metadata text.
/// </summary>
public sealed record StateWrite(
    string? Key,
    byte[]? Value = null,
    string? Etag = null,
    StateConcurrency Concurrency = StateConcurrency.Unspecified,
    string? TtlInSeconds = null);
