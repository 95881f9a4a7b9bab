using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Options;

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

/// <summary>Admit, admit after shedding lower-priority waiters, or reject with a retry hint.</summary>
public sealed record AdmissionDecision
{
    public bool Admitted { get; private init; }

    /// <summary>
    /// When admitted by shedding: drop waiting requests of lower priority (lowest class and newest first) until at most
    /// <see cref="ShedToCount"/> requests and <see cref="ShedToTokens"/> prompt tokens remain; null when nothing is shed.
    /// </summary>
    public int? ShedToCount { get; private init; }

    public long? ShedToTokens { get; private init; }

    /// <summary>When rejected: a metric label (<c>queue_full</c>, <c>queue_tokens_full</c>, <c>queue_delay</c>, <c>low_priority_shed</c>).</summary>
    public string? Reason { get; private init; }

    public TimeSpan RetryAfter { get; private init; }

    public static AdmissionDecision Admit() => new() { Admitted = true };

    public static AdmissionDecision AdmitByShedding(int toCount, long toTokens) =>
        new() { Admitted = true, ShedToCount = toCount, ShedToTokens = toTokens };

    public static AdmissionDecision Reject(string reason, TimeSpan retryAfter) => new() { Reason = reason, RetryAfter = retryAfter };
}

/// <summary>Decides whether a new request may wait in the queue.</summary>
public interface IAdmissionPolicy
{
    string Name { get; }

    AdmissionDecision Decide(RequestPriority priority, int promptTokens, QueueSnapshot queue);
}

/// <summary>Shared bounds and the Retry-After estimate.</summary>
public abstract class BoundedAdmissionPolicy(IOptions<AdmissionOptions> options) : IAdmissionPolicy
{
    protected AdmissionOptions Options { get; } = options.Value;

    public abstract string Name { get; }

    public abstract AdmissionDecision Decide(RequestPriority priority, int promptTokens, QueueSnapshot queue);

    /// <summary>Time for the current queue to drain at the recent rate, clamped to the configured range.</summary>
    public TimeSpan RetryAfter(QueueSnapshot queue)
    {
        var rate = queue.ServicePerSecond is > 0 ? queue.ServicePerSecond.Value : queue.DrainPerSecond;
        var seconds = rate > 0 ? Math.Ceiling((queue.TotalCount + 1) / rate) : Options.MaxRetryAfterSeconds;
        return TimeSpan.FromSeconds(Math.Clamp(seconds, Options.MinRetryAfterSeconds, Options.MaxRetryAfterSeconds));
    }

    /// <summary>
    /// The wait a new request of <paramref name="priority"/> can expect: the requests of its class or higher ahead of it,
    /// plus itself, at the backlogged drain rate. Zero when none is ahead; null when the rate is not known yet;
    /// <see cref="TimeSpan.MaxValue"/> when nothing drains.
    /// </summary>
    public static TimeSpan? EstimatedWait(RequestPriority priority, QueueSnapshot queue)
    {
        long ahead = 0;
        for (var p = 0; p <= (int)priority && p < queue.Count.Length; p++)
        {
            ahead += queue.Count[p];
        }

        if (ahead == 0)
        {
            return TimeSpan.Zero;
        }

        return queue.ServicePerSecond switch
        {
            null => null,
            <= 0 => TimeSpan.MaxValue,
            { } rate => TimeSpan.FromSeconds((ahead + 1) / rate),
        };
    }

    /// <summary>The <c>queue_delay</c> refusal when the estimated wait exceeds the target; null when the request may wait.</summary>
    protected AdmissionDecision? RefuseLongWait(RequestPriority priority, QueueSnapshot queue) =>
        Options.TargetQueueDelay > TimeSpan.Zero && EstimatedWait(priority, queue) is { } wait && wait > Options.TargetQueueDelay
            ? AdmissionDecision.Reject("queue_delay", RetryAfter(queue))
            : null;

    protected bool Fits(long count, long tokens, int promptTokens, double fill = 1.0) =>
        count + 1 <= Math.Floor(Options.MaxQueuedRequests * fill) && tokens + promptTokens <= (long)(Options.MaxQueuedPromptTokens * fill);

    protected string FullReason(long count, long tokens, int promptTokens, double fill = 1.0) =>
        count + 1 > Math.Floor(Options.MaxQueuedRequests * fill) ? "queue_full" : "queue_tokens_full";
}

/// <summary>One queue, first come first served; full means reject.</summary>
public sealed class FifoAdmissionPolicy(IOptions<AdmissionOptions> options) : BoundedAdmissionPolicy(options)
{
    public override string Name => PolicyNames.FifoAdmission;

    public override AdmissionDecision Decide(RequestPriority priority, int promptTokens, QueueSnapshot queue) =>
        Fits(queue.TotalCount, queue.TotalTokens, promptTokens)
            ? RefuseLongWait(RequestPriority.Low, queue) ?? AdmissionDecision.Admit() // one class: everyone waiting is ahead
            : AdmissionDecision.Reject(FullReason(queue.TotalCount, queue.TotalTokens, promptTokens), RetryAfter(queue));
}

/// <summary>
/// Priority classes: low may fill only part of the queue, and a full queue makes room for a higher-priority request
/// by shedding the newest waiters of lower priority, so low is shed first and high last.
/// </summary>
public sealed class PriorityAdmissionPolicy(IOptions<AdmissionOptions> options) : BoundedAdmissionPolicy(options)
{
    public override string Name => PolicyNames.PriorityAdmission;

    public override AdmissionDecision Decide(RequestPriority priority, int promptTokens, QueueSnapshot queue)
    {
        var count = (long)queue.TotalCount;
        var tokens = queue.TotalTokens;
        if (priority == RequestPriority.Low && !Fits(count, tokens, promptTokens, Options.LowPriorityMaxFill))
        {
            return AdmissionDecision.Reject("low_priority_shed", RetryAfter(queue));
        }

        // Only requests of its class or higher are served before it, so a high-priority request may still get in.
        if (RefuseLongWait(priority, queue) is { } refused)
        {
            return refused;
        }

        if (Fits(count, tokens, promptTokens))
        {
            return AdmissionDecision.Admit();
        }

        // Room exists if dropping every lower-priority waiter would make the request fit; the queue then drops only
        // as many as needed.
        long lowerCount = 0;
        long lowerTokens = 0;
        for (var p = (int)priority + 1; p <= (int)RequestPriority.Low; p++)
        {
            lowerCount += queue.Count[p];
            lowerTokens += queue.Tokens[p];
        }

        if (lowerCount > 0 && Fits(count - lowerCount, tokens - lowerTokens, promptTokens))
        {
            return AdmissionDecision.AdmitByShedding(Options.MaxQueuedRequests - 1, Options.MaxQueuedPromptTokens - promptTokens);
        }

        return AdmissionDecision.Reject(FullReason(queue.TotalCount, queue.TotalTokens, promptTokens), RetryAfter(queue));
    }
}
