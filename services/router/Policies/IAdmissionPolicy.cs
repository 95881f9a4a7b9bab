using MoeDapr.Contracts;

namespace MoeDapr.Router.Policies;

/// <summary>Decides whether a new request may wait in the queue.</summary>
public interface IAdmissionPolicy
{
    string Name { get; }

    AdmissionDecision Decide(RequestPriority priority, int promptTokens, QueueSnapshot queue);
}
