namespace MoeDapr.Engine.Sampling;

/// <summary>
/// Counter-based uniform draws: a pure function of (seed, output token index), so a sequence draws the same
/// numbers whichever process samples which token and whatever else shares its batch.
/// </summary>
public static class CounterRandom
{
    /// <summary>Uniform double in [0, 1) for token <paramref name="index"/> of a sequence seeded <paramref name="seed"/>.</summary>
    public static double Uniform(ulong seed, int index)
    {
        var x = Mix(seed ^ Mix((ulong)index + 0x9E3779B97F4A7C15UL));
        return (x >> 11) * (1.0 / (1UL << 53));
    }

    // SplitMix64 finaliser (Steele, Lea, Flood 2014).
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
