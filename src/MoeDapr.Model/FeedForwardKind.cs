namespace MoeDapr.Model;

/// <summary>How a decoder layer computes its feed-forward part.</summary>
public enum FeedForwardKind
{
    /// <summary>A plain gated MLP (<c>gate_proj</c>/<c>up_proj</c>/<c>down_proj</c>).</summary>
    Dense,

    /// <summary>A router over experts, optionally with a shared expert.</summary>
    Moe,
}
