using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>Options for a randomly initialised checkpoint.</summary>
public sealed record RandomWeightOptions
{
    public long Seed { get; init; } = 1234;

    /// <summary>Standard deviation of linear and embedding weights (transformers' <c>initializer_range</c>).</summary>
    public double InitStd { get; init; } = 0.02;

    /// <summary>
    /// 0 for an unskewed router. Above 0, the router gate rows of low-numbered experts get a shared
    /// component of this size, so tokens crowd onto them (a checkpoint to exercise expert load balancing).
    /// </summary>
    public double RouterSkew { get; init; }
}
