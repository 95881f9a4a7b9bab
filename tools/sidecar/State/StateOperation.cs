namespace MoeDapr.Sidecar.State;

/// <summary>One write: key is the full store key (daprd's prefix already applied).</summary>
public sealed record StateOperation(
    StateOperationKind Kind,
    string Key,
    byte[]? Value = null,
    string? Etag = null,
    bool FirstWrite = false,
    TimeSpan? Ttl = null);
