using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Policies;

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
