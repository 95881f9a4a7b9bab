using MoeDapr.Router.Policies;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// One step of <see cref="BatchPlanner"/>: the jobs it took out of the queue with their routes (one served on decode, or
/// a prefill batch), and what it looked at on the way, for the dispatcher's logs and metrics.
/// </summary>
public sealed record DispatchPlan
{
    /// <summary>Nothing waits.</summary>
    public static DispatchPlan Idle { get; } = new();

    /// <summary>True when the queue's head was planned, so another step may follow; false: the rest waits for capacity.</summary>
    public bool Advanced { get; init; }

    /// <summary>Routes in planning order; those on the disaggregated path name their prefill worker.</summary>
    public IReadOnlyList<PlannedRoute> Routes { get; init; } = [];

    /// <summary>Whether remote prefill was available; null when the planner did not get that far.</summary>
    public bool? Disaggregated { get; init; }

    /// <summary>The batch policy's answer and what it was given; null when no prefill batch was formed.</summary>
    public (int Size, BatchSignal Signal)? BatchSize { get; init; }

    /// <summary>Prompt blocks routed to prefill workers, and how many of them those workers already held.</summary>
    public (long Blocks, long OverlapBlocks)? PrefixRouting { get; init; }
}
