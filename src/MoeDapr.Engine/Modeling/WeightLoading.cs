using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>Helpers that load and fuse checkpoint tensors without keeping the unfused copies.</summary>
internal static class WeightLoading
{
    /// <summary>Loads several tensors and concatenates them along <paramref name="dim"/>; the result is in no dispose scope.</summary>
    public static Tensor Concat(IWeightSource weights, ScalarType dtype, Device device, long dim, params TensorSpec[] specs)
    {
        var parts = new List<Tensor>(specs.Length);
        try
        {
            foreach (var spec in specs)
            {
                parts.Add(weights.Load(spec, dtype, device));
            }

            return cat(parts, dim).DetachFromDisposeScope();
        }
        finally
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }
        }
    }
}
