using MoeDapr.Contracts;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// One admitted request from the moment it waits in the queue until the dispatcher routes it. Exactly one of
/// dispatch (by the dispatcher) and abandonment (queue timeout, client gone, shed) wins.
/// </summary>
public sealed class GenerationJob
{
    private const int Waiting = 0;
    private const int Dispatched = 1;
    private const int Abandoned = 2;

    private readonly TaskCompletionSource<RouteOutcome> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public GenerationJob(string requestId, IReadOnlyList<int> promptTokenIds, SamplingParams sampling, RequestPriority priority, UInt128[] promptHashes, long enqueuedAt)
    {
        RequestId = requestId;
        PromptTokenIds = promptTokenIds;
        Sampling = sampling;
        Priority = priority;
        PromptHashes = promptHashes;
        EnqueuedAt = enqueuedAt;
    }

    public string RequestId { get; }

    public IReadOnlyList<int> PromptTokenIds { get; }

    public int PromptTokens => PromptTokenIds.Count;

    public SamplingParams Sampling { get; }

    public RequestPriority Priority { get; }

    /// <summary>Prefix-block hashes of the prompt's full blocks.</summary>
    public UInt128[] PromptHashes { get; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> at admission.</summary>
    public long EnqueuedAt { get; }

    /// <summary>Timestamp when it left the queue; 0 while waiting.</summary>
    public long DispatchedAt { get; private set; }

    public Task<RouteOutcome> Outcome => _outcome.Task;

    /// <summary>Claims the job for the dispatcher; false when the handler already gave up on it.</summary>
    public bool TryDispatch(long now)
    {
        if (Interlocked.CompareExchange(ref _state, Dispatched, Waiting) != Waiting)
        {
            return false;
        }

        DispatchedAt = now;
        return true;
    }

    /// <summary>Gives up on a waiting job; false when the dispatcher already took it.</summary>
    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Waiting) == Waiting;

    public void Resolve(RouteOutcome outcome) => _outcome.TrySetResult(outcome);

    /// <summary>Queue bookkeeping: the node holding this job in its priority list.</summary>
    internal LinkedListNode<GenerationJob>? Node { get; set; }
}
