using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Kernels;

/// <summary>
/// x Wᵀ (+ b) that stays fast for the few rows of a decode step. On the CPU in fp32 they go to
/// <see cref="SmallRowsLinear"/> (e.g. 8 × 1024 by 32000 × 1024 LM head on 2 cores: BLAS ~64 ms, kernel ~14 ms);
/// elsewhere they are computed as (W xᵀ)ᵀ, a tall GEMM with the weight as the long operand. One instance per
/// model carries the thread count the kernel splits its products over, so two engines in one process each keep
/// their own.
/// </summary>
internal sealed class RowLinear
{
    /// <summary>Largest row count computed as (W xᵀ)ᵀ; above it plain linear is as fast or faster.</summary>
    private const long SmallRows = 32;

    public RowLinear(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
    }

    /// <summary>Threads the small-rows kernel splits one product over (the engine's intra-op thread count).</summary>
    public int Threads { get; }

    /// <summary>x: [n, in]; weight: [out, in]; bias: [out] → [n, out] (a transposed view when n is small).</summary>
    public Tensor Apply(Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (SmallRowsLinear.CanApply(x, weight, bias))
        {
            return SmallRowsLinear.Apply(x, weight, bias, Threads);
        }

        if (x.dim() != 2 || x.shape[0] <= 1 || x.shape[0] > SmallRows)
        {
            return nn.functional.linear(x, weight, bias);
        }

        var y = weight.matmul(x.t()).t(); // [n, out], column-major
        return bias is null ? y : y + bias;
    }

    /// <summary>Row segments of x, each against its own weight, in one kernel pass (see <see cref="SmallRowsLinear.GroupedApply"/>).</summary>
    public Tensor GroupedApply(Tensor x, IReadOnlyList<long> rows, IReadOnlyList<Tensor> weights) =>
        SmallRowsLinear.GroupedApply(x, rows, weights, Threads);

    /// <summary>
    /// For a step of <paramref name="tokens"/> rows whose linears all run in the kernel: until disposed, torch runs its
    /// own ops on the calling thread only. An OpenMP worker keeps spinning for a while after each parallel region, and
    /// on a small machine it would spin on the core the kernel's second thread needs. Null when nothing changes.
    /// </summary>
    public IDisposable? OwnCores(long tokens, Device device, ScalarType dtype)
    {
        if (!SmallRowsLinear.IsSupported || device.type != DeviceType.CPU || dtype != ScalarType.Float32
            || tokens > SmallRowsLinear.MaxRows || Threads <= 1)
        {
            return null;
        }

        var previous = torch.get_num_threads();
        if (previous <= 1)
        {
            return null;
        }

        torch.set_num_threads(1);
        return new TorchThreads(previous);
    }

    /// <summary>Gives torch back its thread count.</summary>
    private sealed class TorchThreads(int count) : IDisposable
    {
        public void Dispose() => torch.set_num_threads(count);
    }
}
