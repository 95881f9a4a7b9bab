using MoeDapr.Contracts;

namespace MoeDapr.Router.Policies;

/// <summary>The waiting queue as admission sees it: sizes per priority and how fast it drains.</summary>
public sealed record QueueSnapshot
{
    /// <summary>Waiting requests, indexed by <see cref="RequestPriority"/>.</summary>
    public required int[] Count { get; init; }

    /// <summary>Waiting prompt tokens, indexed by <see cref="RequestPriority"/>.</summary>
    public required long[] Tokens { get; init; }

    /// <summary>Requests leaving the queue per second (dispatched), recent average.</summary>
    public double DrainPerSecond { get; init; }

    /// <summary>
    /// Requests per second the queue drains at while workers are busy (<see cref="Scheduling.ServiceRateMeter"/>);
    /// null when the queue was too rarely backlogged to tell.
    /// </summary>
    public double? ServicePerSecond { get; init; }

    public int TotalCount => Count.Sum();

    public long TotalTokens => Tokens.Sum();
}
