using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// RoPE cos/sin tables computed once in fp32 the way transformers does (inv_freq = theta^(-2i/d),
/// emb = cat(freqs, freqs)), then cast to the compute dtype.
/// </summary>
internal sealed class RotaryTables : IDisposable
{
    public RotaryTables(int headDim, double theta, int maxPositions, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var exponents = arange(0, headDim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / headDim;
        var invFreq = 1.0f / pow(tensor(theta, dtype: ScalarType.Float32), exponents); // [head_dim / 2]
        var positions = arange(maxPositions, dtype: ScalarType.Int64).to(ScalarType.Float32);
        var freqs = outer(positions, invFreq); // [positions, head_dim / 2]
        var emb = cat([freqs, freqs], 1); // [positions, head_dim]
        var sin = emb.sin();
        var half = headDim / 2;
        Cos = emb.cos().to(dtype, device).DetachFromDisposeScope();
        SinSigned = cat([-sin.narrow(1, 0, half), sin.narrow(1, half, half)], 1).to(dtype, device).DetachFromDisposeScope();
        MaxPositions = maxPositions;
    }

    public int MaxPositions { get; }

    /// <summary>[positions, head_dim].</summary>
    public Tensor Cos { get; }

    /// <summary>[positions, head_dim] with the first half negated.</summary>
    public Tensor SinSigned { get; }

    /// <summary>x * cos + rotate_half(x) * sin, with rotate_half(x) * sin = roll(x, d/2) * sinSigned. x: [T, heads, head_dim].</summary>
    public static Tensor Apply(Tensor x, StepContext context)
    {
        var half = x.shape[^1] / 2;
        return (x * context.Cos) + (x.roll(half, -1) * context.SinSigned);
    }

    public void Dispose()
    {
        Cos.Dispose();
        SinSigned.Dispose();
    }
}
