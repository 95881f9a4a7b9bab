namespace MoeDapr.Sidecar.State;

/// <summary>Why a state request failed; each API maps it to its protocol's status.</summary>
public enum StateRequestKind
{
    /// <summary>The sidecar has no state store at all.</summary>
    StoreNotConfigured,

    /// <summary>No state store of the requested name.</summary>
    StoreNotFound,

    /// <summary>A key, an option or a metadata value is malformed.</summary>
    BadRequest,

    /// <summary>An operation the API does not implement (a transaction entry of an unknown type).</summary>
    Unsupported,

    /// <summary>An etag check failed (daprd answers 409 over HTTP, Aborted over gRPC).</summary>
    EtagMismatch,
}
