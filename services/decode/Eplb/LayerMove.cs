namespace MoeDapr.Decode.Eplb;

/// <summary>One MoE layer moved, and how long the engine stopped serving for it.</summary>
public sealed record LayerMove(int Layer, TimeSpan Pause);
