using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>Weights held as tensors in memory (random checkpoints, tests).</summary>
public sealed class InMemoryWeightSource(IReadOnlyDictionary<string, torch.Tensor> tensors) : IWeightSource
{
    public IReadOnlyCollection<string> Names => tensors.Keys.ToArray();

    public IReadOnlyDictionary<string, torch.Tensor> Tensors => tensors;

    public torch.Tensor Load(TensorSpec spec, torch.ScalarType dtype, torch.Device device)
    {
        if (!tensors.TryGetValue(spec.Name, out var tensor))
        {
            throw new ModelFormatException($"(memory): missing tensor {spec.Name}");
        }

        if (!tensor.shape.SequenceEqual(spec.Shape))
        {
            throw new ModelFormatException(
                $"(memory): tensor {spec.Name} has shape [{string.Join(", ", tensor.shape)}], expected [{string.Join(", ", spec.Shape)}]");
        }

        return tensor.to(dtype, device).detach().clone();
    }

    public void Dispose()
    {
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
    }
}
