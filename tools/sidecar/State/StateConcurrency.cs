namespace MoeDapr.Sidecar.State;

/// <summary>
/// A write's concurrency option. daprd's consistency option (strong/eventual) has no counterpart here: the stores keep
/// one copy of each key, so every read is strong and the option is accepted and ignored.
/// </summary>
public enum StateConcurrency
{
    /// <summary>The etag is checked when one is given (daprd's default).</summary>
    Unspecified,

    /// <summary>The etag is checked, and a write without one fails when the key exists.</summary>
    FirstWrite,

    /// <summary>The etag is ignored: the last write wins.</summary>
    LastWrite,
}
