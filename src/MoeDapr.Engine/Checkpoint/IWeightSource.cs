using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>Where the engine gets its weights: a checkpoint on disk or tensors in memory.</summary>
public interface IWeightSource : IDisposable
{
    /// <summary>Names of every tensor the source holds.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>
    /// Loads one tensor, checks its shape against <paramref name="spec"/> and converts it to
    /// <paramref name="dtype"/> on <paramref name="device"/>. The result is not in any dispose scope.
    /// Throws <see cref="ModelFormatException"/> naming the file and tensor on any defect.
    /// </summary>
    torch.Tensor Load(TensorSpec spec, torch.ScalarType dtype, torch.Device device);
}
