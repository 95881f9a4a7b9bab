using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Policies;

/// <summary>One queue, first come first served; full means reject.</summary>
public sealed class FifoAdmissionPolicy(IOptions<AdmissionOptions> options) : BoundedAdmissionPolicy(options)
{
    public override string Name => PolicyNames.FifoAdmission;

    public override AdmissionDecision Decide(RequestPriority priority, int promptTokens, QueueSnapshot queue) =>
        Fits(queue.TotalCount, queue.TotalTokens, promptTokens)
            ? RefuseLongWait(RequestPriority.Low, queue) ?? AdmissionDecision.Admit() // one class: everyone waiting is ahead
            : AdmissionDecision.Reject(FullReason(queue.TotalCount, queue.TotalTokens, promptTokens), RetryAfter(queue));
}
