namespace MoeDapr.Router.Policies;

/// <summary>Power of two choices: two random candidates, the less loaded wins (spreads load without herding on one).</summary>
public sealed class PowerOfTwoPrefillPolicy(RouterRandom random) : IPrefillWorkerPolicy
{
    public string Name => PolicyNames.PowerOfTwo;

    public PrefillCandidate? Choose(IReadOnlyList<PrefillCandidate> candidates, int batchBlocks) =>
        PowerOfTwo.Choose(candidates, c => c.LoadBlocks, random);
}
