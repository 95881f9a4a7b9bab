namespace MoeDapr.Router.Options;

/// <summary>Prefill batch sizing (<c>Router:Batching</c>).</summary>
public sealed class BatchingOptions
{
    public const string Section = "Router:Batching";

    /// <summary><c>adaptive</c> (default) or <c>fixed</c>.</summary>
    public string Policy { get; set; } = "adaptive";

    public int InitialBatchSize { get; set; } = 8;

    /// <summary>
    /// Adaptive: the batch never shrinks below this. A batch takes only what is waiting (it never waits to fill), so a
    /// floor costs nothing at low load; without one, quiet periods shrink the batch to 1 and, with the router's in-flight
    /// limit per worker, cap prefill at a request or two per worker when load returns.
    /// </summary>
    public int MinBatchSize { get; set; } = 8;

    public int MaxBatchSize { get; set; } = 64;

    /// <summary>Prompt tokens per batch at most (a single longer prompt still goes alone).</summary>
    public int MaxBatchTokens { get; set; } = 16384;

    /// <summary>Adaptive: double when more than this many requests wait...</summary>
    public int GrowQueueDepth { get; set; } = 100;

    /// <summary>...and prefill utilization is above this.</summary>
    public double GrowUtilization { get; set; } = 0.8;

    /// <summary>Adaptive: halve when fewer than this many requests wait...</summary>
    public int ShrinkQueueDepth { get; set; } = 10;

    /// <summary>...and prefill utilization is below this.</summary>
    public double ShrinkUtilization { get; set; } = 0.5;

    /// <summary>Adaptive: at most one change per interval, so a change can show its effect first.</summary>
    public TimeSpan AdaptInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Prefill batches a worker may run at once (the router queues the rest).</summary>
    public int MaxInFlightBatchesPerWorker { get; set; } = 2;
}
