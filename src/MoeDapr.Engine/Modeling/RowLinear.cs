using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// x Wᵀ (+ b) that stays fast for the few rows of a decode step. On the CPU in fp32 they go to
/// <see cref="SmallRowsLinear"/> (e.g. 8 × 1024 by 32000 × 1024 LM head on 2 cores: BLAS ~64 ms, kernel ~14 ms);
/// elsewhere they are computed as (W xᵀ)ᵀ, a tall GEMM with the weight as the long operand.
/// </summary>
internal static class RowLinear
{
    /// <summary>Largest row count computed as (W xᵀ)ᵀ; above it plain linear is as fast or faster.</summary>
    private const long SmallRows = 32;

    /// <summary>x: [n, in]; weight: [out, in]; bias: [out] → [n, out] (a transposed view when n is small).</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (SmallRowsLinear.CanApply(x, weight, bias))
        {
            return SmallRowsLinear.Apply(x, weight, bias);
        }

        if (x.dim() != 2 || x.shape[0] <= 1 || x.shape[0] > SmallRows)
        {
            return nn.functional.linear(x, weight, bias);
        }

        var y = weight.matmul(x.t()).t(); // [n, out], column-major
        return bias is null ? y : y + bias;
    }
}
