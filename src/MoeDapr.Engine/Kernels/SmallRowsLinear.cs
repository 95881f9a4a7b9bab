using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Kernels;

/// <summary>
/// y = x Wᵀ (+ b) for the few fp32 rows of a decode step on the CPU, computed straight on the weight's memory
/// with AVX2/FMA. The CPU BLAS picks slow code for these short-and-wide products on some CPUs (~16 GFLOP/s
/// with 2–32 rows); here each weight row is streamed once per block of input rows, the products of a 4 × 4 tile
/// of (weight row, input row) pairs are accumulated in registers, and the output rows are split over threads.
/// Every output element is summed in the same order whatever the row count, tile position or thread split,
/// so a sequence gets bit-identical products alone or in a batch. Stateless: the caller names the thread count of
/// every product (a model's <see cref="RowLinear"/> carries its own), so engines in one process cannot change
/// each other's.
/// </summary>
internal static unsafe class SmallRowsLinear
{
    /// <summary>Most input rows handled here; above it the BLAS is as fast (a compute-bound GEMM).</summary>
    public const int MaxRows = 32;

    /// <summary>Weight rows per tile.</summary>
    private const int TileOut = 4;

    /// <summary>Input rows per tile.</summary>
    private const int TileIn = 4;

    /// <summary>Chunks a parallel product is cut into per thread.</summary>
    private const int ChunksPerThread = 4;

    /// <summary>Below this many multiply-adds one thread does the whole product (waking another costs more).</summary>
    private const long ParallelMinWork = 1L << 18;

    /// <summary>Whether this CPU has the instructions the kernel uses.</summary>
    public static bool IsSupported => Fma.IsSupported && Avx.IsSupported;

    /// <summary>True when <see cref="Apply"/> can take these operands: CPU fp32, x [n ≤ MaxRows, in], contiguous weight [out, in].</summary>
    public static bool CanApply(Tensor x, Tensor weight, Tensor? bias) =>
        IsSupported
        && x.shape.Length == 2 && x.shape[0] >= 1 && x.shape[0] <= MaxRows
        && IsSupportedInput(x) && IsSupportedWeight(weight, x.shape[1])
        && (bias is null || (bias.device_type == DeviceType.CPU && bias.dtype == ScalarType.Float32 && bias.dim() == 1 && bias.shape[0] == weight.shape[0] && bias.is_contiguous()));

    /// <summary>True for a weight the kernel reads in place: CPU fp32 contiguous [out, <paramref name="inner"/>].</summary>
    public static bool IsSupportedWeight(Tensor weight, long inner) =>
        weight.device_type == DeviceType.CPU && weight.dtype == ScalarType.Float32
        && weight.shape.Length == 2 && weight.shape[1] == inner && inner > 0 && weight.shape[0] > 0 && weight.is_contiguous();

    private static bool IsSupportedInput(Tensor x) => x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32;

    /// <summary>
    /// x: [n, in] (any strides); weight: [out, in] contiguous; bias: [out] → [n, out] contiguous, split over at most
    /// <paramref name="threads"/> threads.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, int threads)
    {
        if (!CanApply(x, weight, bias))
        {
            throw new ArgumentException($"operands not supported: x {x.dtype} {x.device} [{string.Join(", ", x.shape)}], weight {weight.dtype} {weight.device} [{string.Join(", ", weight.shape)}]");
        }

        var copied = !x.is_contiguous();
        var input = copied ? x.contiguous() : x;
        var rows = (int)x.shape[0];
        var inner = (int)x.shape[1];
        var outputs = (int)weight.shape[0];
        var y = empty([rows, outputs], dtype: ScalarType.Float32, device: x.device);
        var operands = new Operands(Pointer(input), Pointer(weight), bias is null ? null : Pointer(bias), Pointer(y), rows, inner, outputs);
        var tiles = (outputs + TileOut - 1) / TileOut;
        var parts = threads <= 1 || (long)rows * inner * outputs < ParallelMinWork ? 1 : Math.Min(ChunksPerThread * Math.Max(1, threads), tiles);
        if (parts <= 1)
        {
            Compute(operands, 0, outputs);
        }
        else
        {
            // Contiguous ranges of whole tiles, several per thread and taken as threads come free, so a thread the
            // OS preempts holds up only a small share; the calling thread is one of the workers.
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
            {
                var first = (int)((long)tiles * part / parts) * TileOut;
                var last = Math.Min(outputs, (int)((long)tiles * (part + 1) / parts) * TileOut);
                Compute(operands, first, last);
            });
        }

        GC.KeepAlive(weight);
        GC.KeepAlive(bias);
        if (copied)
        {
            input.Dispose();
        }

        return y;
    }

    /// <summary>
    /// Row segments of x, each against its own weight, in one parallel pass: rows [start_s, start_s + rows[s]) of
    /// x times weights[s]ᵀ go to the same rows of the result. x: [Σ rows, in]; weights: [out, in] each → [Σ rows, out].
    /// </summary>
    public static Tensor GroupedApply(Tensor x, IReadOnlyList<long> rows, IReadOnlyList<Tensor> weights, int threads)
    {
        if (!IsSupported || rows.Count != weights.Count || rows.Count == 0 || x.shape.Length != 2 || rows.Sum() != x.shape[0]
            || rows.Any(r => r < 0 || r > MaxRows) || !IsSupportedInput(x)
            || weights.Any(w => !IsSupportedWeight(w, x.shape[1]) || w.shape[0] != weights[0].shape[0]))
        {
            throw new ArgumentException("grouped operands not supported: each segment needs at most MaxRows rows and a CPU fp32 contiguous weight of one shape");
        }

        var copied = !x.is_contiguous();
        var input = copied ? x.contiguous() : x;
        var inner = (int)x.shape[1];
        var outputs = (int)weights[0].shape[0];
        var y = empty([x.shape[0], outputs], dtype: ScalarType.Float32, device: x.device);
        var xBase = Pointer(input);
        var yBase = Pointer(y);
        var segments = new Operands[rows.Count];
        long start = 0;
        for (var s = 0; s < segments.Length; s++)
        {
            segments[s] = new Operands(xBase + (start * inner), Pointer(weights[s]), null, yBase + (start * outputs), (int)rows[s], inner, outputs);
            start += rows[s];
        }

        var tiles = (outputs + TileOut - 1) / TileOut;
        var work = (long)x.shape[0] * inner * outputs;
        var parts = threads <= 1 || work < ParallelMinWork ? 1 : ChunksPerThread * threads;
        if (parts == 1)
        {
            foreach (var segment in segments)
            {
                Compute(segment, 0, outputs);
            }
        }
        else
        {
            // A tile of a segment costs its rows of multiply-adds plus streaming the weight rows, which takes
            // about as long as a few rows' multiply-adds; each thread gets an equal share of the segment-major
            // tile sequence, cut into several chunks per thread as in Apply.
            var tileCost = segments.Select(o => o.Rows == 0 ? 0L : o.Rows + 4L).ToArray();
            var total = tileCost.Sum() * tiles;
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, part =>
            {
                var from = total * part / parts;
                var to = total * (part + 1) / parts;
                long offset = 0;
                for (var s = 0; s < segments.Length && offset < to; s++)
                {
                    var cost = tileCost[s] * tiles;
                    if (cost > 0 && offset + cost > from)
                    {
                        var first = (int)Math.Min(tiles, CeilDiv(Math.Max(0, from - offset), tileCost[s])) * TileOut;
                        var last = (int)Math.Min(tiles, CeilDiv(Math.Min(cost, to - offset), tileCost[s])) * TileOut;
                        Compute(segments[s], first, Math.Min(outputs, last));
                    }

                    offset += cost;
                }
            });
        }

        GC.KeepAlive(weights);
        if (copied)
        {
            input.Dispose();
        }

        return y;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    /// <summary>The first element of a CPU tensor (its storage offset included).</summary>
    private static float* Pointer(Tensor t) => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    /// <summary>x [Rows, Inner], W [Outputs, Inner], Bias [Outputs] or null, Y [Rows, Outputs]; all contiguous.</summary>
    private readonly struct Operands(float* x, float* w, float* bias, float* y, int rows, int inner, int outputs)
    {
        public readonly float* X = x;
        public readonly float* W = w;
        public readonly float* Bias = bias;
        public readonly float* Y = y;
        public readonly int Rows = rows;
        public readonly int Inner = inner;
        public readonly int Outputs = outputs;
    }

    /// <summary>Output columns [first, last) of every row.</summary>
    private static void Compute(in Operands o, int first, int last)
    {
        var n = first;
        for (; n + TileOut <= last; n += TileOut)
        {
            var m = 0;
            for (; m + TileIn <= o.Rows; m += TileIn)
            {
                Tile4x4(o, n, m);
            }

            if (m + 2 <= o.Rows)
            {
                Tile4x2(o, n, m);
                m += 2;
            }

            if (m < o.Rows)
            {
                Tile4x1(o, n, m);
            }
        }

        for (; n < last; n++)
        {
            for (var m = 0; m < o.Rows; m++)
            {
                Store(o, n, m, Dot(o.W + ((long)n * o.Inner), o.X + ((long)m * o.Inner), o.Inner, Vector256<float>.Zero));
            }
        }
    }

    /// <summary>Weight rows n..n+3 against input rows m..m+3.</summary>
    private static void Tile4x4(in Operands o, int n, int m)
    {
        var k = o.Inner;
        var w0 = o.W + ((long)n * k);
        var w1 = w0 + k;
        var w2 = w1 + k;
        var w3 = w2 + k;
        var x0 = o.X + ((long)m * k);
        var x1 = x0 + k;
        var x2 = x1 + k;
        var x3 = x2 + k;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        var end = k - (k % Vector256<float>.Count);
        for (var i = 0; i < end; i += Vector256<float>.Count)
        {
            var v0 = Avx.LoadVector256(w0 + i);
            var v1 = Avx.LoadVector256(w1 + i);
            var v2 = Avx.LoadVector256(w2 + i);
            var v3 = Avx.LoadVector256(w3 + i);
            var u = Avx.LoadVector256(x0 + i);
            a00 = Fma.MultiplyAdd(v0, u, a00);
            a10 = Fma.MultiplyAdd(v1, u, a10);
            a20 = Fma.MultiplyAdd(v2, u, a20);
            a30 = Fma.MultiplyAdd(v3, u, a30);
            u = Avx.LoadVector256(x1 + i);
            a01 = Fma.MultiplyAdd(v0, u, a01);
            a11 = Fma.MultiplyAdd(v1, u, a11);
            a21 = Fma.MultiplyAdd(v2, u, a21);
            a31 = Fma.MultiplyAdd(v3, u, a31);
            u = Avx.LoadVector256(x2 + i);
            a02 = Fma.MultiplyAdd(v0, u, a02);
            a12 = Fma.MultiplyAdd(v1, u, a12);
            a22 = Fma.MultiplyAdd(v2, u, a22);
            a32 = Fma.MultiplyAdd(v3, u, a32);
            u = Avx.LoadVector256(x3 + i);
            a03 = Fma.MultiplyAdd(v0, u, a03);
            a13 = Fma.MultiplyAdd(v1, u, a13);
            a23 = Fma.MultiplyAdd(v2, u, a23);
            a33 = Fma.MultiplyAdd(v3, u, a33);
        }

        Finish(o, n, m, a00, a01, a02, a03);
        Finish(o, n + 1, m, a10, a11, a12, a13);
        Finish(o, n + 2, m, a20, a21, a22, a23);
        Finish(o, n + 3, m, a30, a31, a32, a33);
    }

    /// <summary>Weight rows n..n+3 against input rows m, m+1.</summary>
    private static void Tile4x2(in Operands o, int n, int m)
    {
        var k = o.Inner;
        var w0 = o.W + ((long)n * k);
        var w1 = w0 + k;
        var w2 = w1 + k;
        var w3 = w2 + k;
        var x0 = o.X + ((long)m * k);
        var x1 = x0 + k;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        var end = k - (k % Vector256<float>.Count);
        for (var i = 0; i < end; i += Vector256<float>.Count)
        {
            var v0 = Avx.LoadVector256(w0 + i);
            var v1 = Avx.LoadVector256(w1 + i);
            var v2 = Avx.LoadVector256(w2 + i);
            var v3 = Avx.LoadVector256(w3 + i);
            var u = Avx.LoadVector256(x0 + i);
            a00 = Fma.MultiplyAdd(v0, u, a00);
            a10 = Fma.MultiplyAdd(v1, u, a10);
            a20 = Fma.MultiplyAdd(v2, u, a20);
            a30 = Fma.MultiplyAdd(v3, u, a30);
            u = Avx.LoadVector256(x1 + i);
            a01 = Fma.MultiplyAdd(v0, u, a01);
            a11 = Fma.MultiplyAdd(v1, u, a11);
            a21 = Fma.MultiplyAdd(v2, u, a21);
            a31 = Fma.MultiplyAdd(v3, u, a31);
        }

        Store(o, n, m, Tail(w0, x0, end, k, a00));
        Store(o, n + 1, m, Tail(w1, x0, end, k, a10));
        Store(o, n + 2, m, Tail(w2, x0, end, k, a20));
        Store(o, n + 3, m, Tail(w3, x0, end, k, a30));
        Store(o, n, m + 1, Tail(w0, x1, end, k, a01));
        Store(o, n + 1, m + 1, Tail(w1, x1, end, k, a11));
        Store(o, n + 2, m + 1, Tail(w2, x1, end, k, a21));
        Store(o, n + 3, m + 1, Tail(w3, x1, end, k, a31));
    }

    /// <summary>Weight rows n..n+3 against input row m.</summary>
    private static void Tile4x1(in Operands o, int n, int m)
    {
        var k = o.Inner;
        var w0 = o.W + ((long)n * k);
        var w1 = w0 + k;
        var w2 = w1 + k;
        var w3 = w2 + k;
        var x0 = o.X + ((long)m * k);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var end = k - (k % Vector256<float>.Count);
        for (var i = 0; i < end; i += Vector256<float>.Count)
        {
            var u = Avx.LoadVector256(x0 + i);
            a0 = Fma.MultiplyAdd(Avx.LoadVector256(w0 + i), u, a0);
            a1 = Fma.MultiplyAdd(Avx.LoadVector256(w1 + i), u, a1);
            a2 = Fma.MultiplyAdd(Avx.LoadVector256(w2 + i), u, a2);
            a3 = Fma.MultiplyAdd(Avx.LoadVector256(w3 + i), u, a3);
        }

        Store(o, n, m, Tail(w0, x0, end, k, a0));
        Store(o, n + 1, m, Tail(w1, x0, end, k, a1));
        Store(o, n + 2, m, Tail(w2, x0, end, k, a2));
        Store(o, n + 3, m, Tail(w3, x0, end, k, a3));
    }

    /// <summary>Weight row n's sums against input rows m..m+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(in Operands o, int n, int m, Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3)
    {
        var k = o.Inner;
        var end = k - (k % Vector256<float>.Count);
        var w = o.W + ((long)n * k);
        var x = o.X + ((long)m * k);
        Store(o, n, m, Tail(w, x, end, k, a0));
        Store(o, n, m + 1, Tail(w, x + k, end, k, a1));
        Store(o, n, m + 2, Tail(w, x + (2L * k), end, k, a2));
        Store(o, n, m + 3, Tail(w, x + (3L * k), end, k, a3));
    }

    /// <summary>The dot product of one weight row and one input row, in the tiles' summation order.</summary>
    private static float Dot(float* w, float* x, int k, Vector256<float> acc)
    {
        var end = k - (k % Vector256<float>.Count);
        for (var i = 0; i < end; i += Vector256<float>.Count)
        {
            acc = Fma.MultiplyAdd(Avx.LoadVector256(w + i), Avx.LoadVector256(x + i), acc);
        }

        return Tail(w, x, end, k, acc);
    }

    /// <summary>Lanes summed, then the elements past the last whole vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(float* w, float* x, int end, int k, Vector256<float> acc)
    {
        var sum = Vector256.Sum(acc);
        for (var i = end; i < k; i++)
        {
            sum = MathF.FusedMultiplyAdd(w[i], x[i], sum);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in Operands o, int n, int m, float sum) =>
        o.Y[((long)m * o.Outputs) + n] = o.Bias is null ? sum : sum + o.Bias[n];
}
