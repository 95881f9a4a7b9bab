namespace MoeDapr.Router.Policies;

/// <summary>Picks the decode worker for one sequence; null when there is no candidate.</summary>
public interface IDecodeWorkerPolicy
{
    string Name { get; }

    DecodeCandidate? Choose(IReadOnlyList<DecodeCandidate> candidates);
}
