namespace MoeDapr.Router.Policies;

/// <summary>Power of two choices over any candidate type: two distinct random draws, the lower load wins.</summary>
internal static class PowerOfTwo
{
    public static T? Choose<T>(IReadOnlyList<T> candidates, Func<T, double> load, RouterRandom random)
        where T : class
    {
        switch (candidates.Count)
        {
            case 0:
                return null;
            case 1:
                return candidates[0];
            default:
                var (a, b) = random.TwoDistinct(candidates.Count);
                return load(candidates[b]) < load(candidates[a]) ? candidates[b] : candidates[a];
        }
    }
}
