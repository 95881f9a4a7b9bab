using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>Options of a generated random checkpoint (<c>moedapr model init</c>).</summary>
public sealed record RandomCheckpointOptions
{
    public required ModelFamily Family { get; init; }
    public ModelPreset Preset { get; init; } = ModelPreset.Tiny;
    public long Seed { get; init; } = 1234;

    /// <summary>Safetensors dtype of the weights: "F32", "F16" or "BF16".</summary>
    public string Dtype { get; init; } = "F32";

    /// <summary>See <see cref="RandomWeightOptions.RouterSkew"/>.</summary>
    public double RouterSkew { get; init; }

    /// <summary>Files above this size are split into shards with an index.</summary>
    public long MaxShardBytes { get; init; } = CheckpointWriter.DefaultMaxShardBytes;
}
