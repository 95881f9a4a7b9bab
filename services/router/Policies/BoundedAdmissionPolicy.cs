using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Policies;

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
