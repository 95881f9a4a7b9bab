using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>Where and how the model's tensors live, and how many threads its CPU kernels use.</summary>
public sealed record ModelPlacement
{
    public required Device Device { get; init; }

    public required ScalarType Dtype { get; init; }

    /// <summary>Device of each expert-parallel rank.</summary>
    public required Device[] RankDevices { get; init; }

    /// <summary>Physical expert slots per MoE layer (experts + redundant replicas), a multiple of the rank count.</summary>
    public required int ExpertSlots { get; init; }

    /// <summary>Longest position the RoPE tables cover.</summary>
    public required int MaxPositions { get; init; }

    /// <summary>
    /// Threads the CPU small-rows kernel splits one product over; the engine passes its intra-op thread count. Held by
    /// this model alone: another model in the process may use a different count.
    /// </summary>
    public required int KernelThreads { get; init; }
}
