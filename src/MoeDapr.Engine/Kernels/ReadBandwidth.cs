using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace MoeDapr.Engine.Kernels;

/// <summary>
/// The ceiling of a bandwidth-bound decode on the CPU: a read-only stream over a buffer far larger than the last-level
/// cache, on every thread at once (decode reads its weights, it does not copy them, and it reads on all cores). Lives
/// with the kernels because it must be compiled optimised like them (unoptimised vector code would measure the JIT).
/// </summary>
public static class ReadBandwidth
{
    /// <summary>1 GiB: far beyond any L3 these machines have, so the figure is DRAM's.</summary>
    public const long DefaultBytes = 1L << 30;

    /// <summary>Best GB/s of <paramref name="runs"/> all-threads read passes over <paramref name="bytes"/> of memory.</summary>
    public static double MeasureGbPerSecond(int threads, long bytes = DefaultBytes, int runs = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)(bytes / sizeof(float))));
        buffer.AsSpan().Fill(1f); // touch every page before timing
        var sink = 0f;
        var best = double.MaxValue;
        for (var run = 0; run < runs; run++)
        {
            var started = Stopwatch.GetTimestamp();
            sink += SumParallel(buffer, threads);
            best = Math.Min(best, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        GC.KeepAlive(sink);
        return bytes / best / 1e9;
    }

    /// <summary>The sum of <paramref name="values"/>, each of <paramref name="threads"/> threads reading one contiguous slice.</summary>
    public static float SumParallel(float[] values, int threads)
    {
        ArgumentNullException.ThrowIfNull(values);
        var partial = new float[threads];
        var slice = (values.Length + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var start = Math.Min(values.Length, t * slice);
            var length = Math.Min(slice, values.Length - start);
            partial[t] = Sum(values.AsSpan(start, length));
        });
        return partial.Sum();
    }

    /// <summary>A streaming sum with four independent vector accumulators (loads, not the add chain, set the pace).</summary>
    public static float Sum(ReadOnlySpan<float> values)
    {
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
        Vector<float> a = default, b = default, c = default, d = default;
        var i = 0;
        for (; i + 4 <= vectors.Length; i += 4)
        {
            a += vectors[i];
            b += vectors[i + 1];
            c += vectors[i + 2];
            d += vectors[i + 3];
        }

        for (; i < vectors.Length; i++)
        {
            a += vectors[i];
        }

        var total = Vector.Sum(a + b + c + d);
        for (var j = vectors.Length * Vector<float>.Count; j < values.Length; j++)
        {
            total += values[j];
        }

        return total;
    }
}
