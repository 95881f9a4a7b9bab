namespace MoeDapr.Router.Policies;

/// <summary>Thread-safe draws from an injected <see cref="Random"/>, so tests fix the sequence.</summary>
public sealed class RouterRandom(Random random)
{
    private readonly Lock _lock = new();

    public int Next(int maxExclusive)
    {
        lock (_lock)
        {
            return random.Next(maxExclusive);
        }
    }

    /// <summary>Two distinct indexes below <paramref name="count"/> (count ≥ 2).</summary>
    public (int First, int Second) TwoDistinct(int count)
    {
        lock (_lock)
        {
            var first = random.Next(count);
            var second = random.Next(count - 1);
            return (first, second >= first ? second + 1 : second);
        }
    }
}
