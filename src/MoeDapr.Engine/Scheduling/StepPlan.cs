namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// What one step computes, decided by <see cref="Scheduler.Schedule"/> before any tensor is touched: the kind of step,
/// each sequence's chunk of tokens with the blocks that hold its KV, and the sequences preempted to make room.
/// </summary>
internal sealed class StepPlan
{
    /// <summary>A plan with nothing to run.</summary>
    public static readonly StepPlan Empty = new(StepKind.Decode, [], []);

    public StepPlan(StepKind kind, IReadOnlyList<ScheduledChunk> chunks, IReadOnlyList<Sequence> preempted)
    {
        Kind = kind;
        Chunks = chunks;
        Preempted = preempted;
    }

    public StepKind Kind { get; }

    /// <summary>One entry per sequence in the batch, in batch order.</summary>
    public IReadOnlyList<ScheduledChunk> Chunks { get; }

    /// <summary>Sequences that gave back their blocks for this step and wait to be prefilled again.</summary>
    public IReadOnlyList<Sequence> Preempted { get; }

    public bool IsEmpty => Chunks.Count == 0;
}
