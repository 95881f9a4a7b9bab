using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>The logits of a training forward pass and each MoE layer's router logits (for the load-balancing loss).</summary>
public sealed record TrainingForward(Tensor Logits, IReadOnlyList<Tensor> RouterLogits);
