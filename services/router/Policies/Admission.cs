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

    /// <summary>When rejected: a metric label (<c>queue_full</c>, <c>queue_tokens_full</c>, <c>low_priority_shed</c>).</summary>
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
        var seconds = queue.DrainPerSecond > 0 ? Math.Ceiling((queue.TotalCount + 1) / queue.DrainPerSecond) : Options.MaxRetryAfterSeconds;
        return TimeSpan.FromSeconds(Math.Clamp(seconds, Options.MinRetryAfterSeconds, Options.MaxRetryAfterSeconds));
    }

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
            ? AdmissionDecision.Admit()
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
