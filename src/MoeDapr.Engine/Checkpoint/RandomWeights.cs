using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>Deterministic random weights for every tensor of <see cref="CheckpointSchema"/>.</summary>
public static class RandomWeights
{
    /// <summary>Creates fp32 tensors on the CPU; the same options give the same tensors.</summary>
    public static Dictionary<string, torch.Tensor> Create(ModelConfig config, RandomWeightOptions? options = null)
    {
        options ??= new RandomWeightOptions();
        var generator = new torch.Generator((ulong)options.Seed);
        var tensors = new Dictionary<string, torch.Tensor>();
        using var noGrad = torch.no_grad();
        foreach (var spec in CheckpointSchema.ExpectedTensors(config))
        {
            torch.Tensor tensor;
            if (spec.Name.EndsWith("norm.weight", StringComparison.Ordinal))
            {
                // RMSNorm weights near one, perturbed so that a wrong norm is visible in the logits.
                tensor = torch.ones(spec.Shape) + 0.1 * torch.randn(spec.Shape, generator: generator);
            }
            else if (spec.Name.EndsWith(".bias", StringComparison.Ordinal))
            {
                tensor = options.InitStd * torch.randn(spec.Shape, generator: generator);
            }
            else
            {
                tensor = options.InitStd * torch.randn(spec.Shape, generator: generator);
            }

            if (options.RouterSkew > 0 && spec.Name.EndsWith(".gate.weight", StringComparison.Ordinal) && spec.Shape[0] == config.NumExperts)
            {
                // [experts, hidden]: a common direction added with weight decaying over expert index.
                var direction = torch.randn([1, spec.Shape[1]], generator: generator);
                var scale = torch.exp(-torch.arange(spec.Shape[0], dtype: torch.float32) / 2.0).unsqueeze(1);
                tensor = tensor + options.RouterSkew * scale * direction;
            }

            tensors[spec.Name] = tensor.detach();
        }

        return tensors;
    }
}
