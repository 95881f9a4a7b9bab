using System.Diagnostics;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// Accumulates one step's routing and per-rank expert time over the MoE layers; off (no clock reads) unless
/// <see cref="Enabled"/>. Touched only on the engine thread.
/// </summary>
internal sealed class MoeStepTimings(int ranks)
{
    private readonly long[] _rankTicks = new long[ranks];
    private long _routingTicks;
    private bool _any;

    public bool Enabled { get; set; }

    /// <summary>A start mark, or 0 when timing is off.</summary>
    public long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    public void AddRouting(long start)
    {
        if (start != 0)
        {
            _routingTicks += Stopwatch.GetTimestamp() - start;
            _any = true;
        }
    }

    public void AddRank(int rank, long start)
    {
        if (start != 0)
        {
            _rankTicks[rank] += Stopwatch.GetTimestamp() - start;
        }
    }

    /// <summary>The step's timings (null when no MoE layer ran), and a reset for the next step.</summary>
    public StepTiming? Take()
    {
        if (!_any)
        {
            return null;
        }

        var timing = new StepTiming(
            (double)_routingTicks / Stopwatch.Frequency,
            _rankTicks.Select(t => (double)t / Stopwatch.Frequency).ToArray());
        _routingTicks = 0;
        Array.Clear(_rankTicks);
        _any = false;
        return timing;
    }
}
