namespace MoeDapr.Router.Policies;

/// <summary>The lowest <see cref="DecodeCandidate.Load"/> (fewest running sequences and least KV in use).</summary>
public sealed class LeastLoadedDecodePolicy : IDecodeWorkerPolicy
{
    public string Name => PolicyNames.LeastLoaded;

    public DecodeCandidate? Choose(IReadOnlyList<DecodeCandidate> candidates) =>
        candidates.Count == 0 ? null : candidates.MinBy(c => c.Load);
}
