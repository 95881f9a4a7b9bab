namespace MoeDapr.Sidecar.State;

/// <summary>A state request that cannot be served, with daprd's error code and message (the same in both protocols).</summary>
public sealed class StateRequestException(StateRequestKind kind, string errorCode, string message) : Exception(message)
{
    public StateRequestKind Kind { get; } = kind;

    /// <summary>daprd's error code, e.g. ERR_STATE_SAVE.</summary>
    public string ErrorCode { get; } = errorCode;
}
