namespace MoeDapr.Decode.Eplb;

/// <summary>What applying a plan did: the layers moved, each with its serving pause, and the whole duration.</summary>
public sealed record PlanApplyResult(long Version, IReadOnlyList<LayerMove> Layers, TimeSpan Elapsed);
