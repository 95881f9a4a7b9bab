namespace MoeDapr.Router.Policies;

/// <summary>Power of two choices on <see cref="DecodeCandidate.Load"/>.</summary>
public sealed class PowerOfTwoDecodePolicy(RouterRandom random) : IDecodeWorkerPolicy
{
    public string Name => PolicyNames.PowerOfTwo;

    public DecodeCandidate? Choose(IReadOnlyList<DecodeCandidate> candidates) => PowerOfTwo.Choose(candidates, c => c.Load, random);
}
