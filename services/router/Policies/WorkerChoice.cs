using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Policies;

/// <summary>A prefill worker able to take a batch: its queued load in blocks and the batch's blocks it already holds.</summary>
public sealed record PrefillCandidate(string AppId, double LoadBlocks, int OverlapBlocks);

/// <summary>A decode worker able to take a sequence.</summary>
public sealed record DecodeCandidate(string AppId, int RunningSequences, int QueuedSequences, int MaxRunningSequences, double KvUsage)
{
    /// <summary>Occupied share of the batch slots (running plus waiting) plus KV usage; lower is better.</summary>
    public double Load => (MaxRunningSequences > 0 ? (double)(RunningSequences + QueuedSequences) / MaxRunningSequences : (RunningSequences + QueuedSequences) / 64.0) + KvUsage;
}

/// <summary>Picks the prefill worker for a batch of <c>batchBlocks</c> prompt blocks; null when there is no candidate.</summary>
public interface IPrefillWorkerPolicy
{
    string Name { get; }

    /// <summary>
    /// True when the choice depends on each prompt (prefix overlap): the dispatcher then asks once per request and splits
    /// a batch over the chosen workers; false: once per batch.
    /// </summary>
    bool ChoosesPerRequest => false;

    PrefillCandidate? Choose(IReadOnlyList<PrefillCandidate> candidates, int batchBlocks);
}

/// <summary>Picks the decode worker for one sequence; null when there is no candidate.</summary>
public interface IDecodeWorkerPolicy
{
    string Name { get; }

    DecodeCandidate? Choose(IReadOnlyList<DecodeCandidate> candidates);
}

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

/// <summary>Power of two choices: two random candidates, the less loaded wins (spreads load without herding on one).</summary>
public sealed class PowerOfTwoPrefillPolicy(RouterRandom random) : IPrefillWorkerPolicy
{
    public string Name => PolicyNames.PowerOfTwo;

    public PrefillCandidate? Choose(IReadOnlyList<PrefillCandidate> candidates, int batchBlocks) =>
        PowerOfTwo.Choose(candidates, c => c.LoadBlocks, random);
}

/// <summary>
/// Prefix-aware: cost = weight × blocks still to compute + queued blocks, the cheapest wins (the KV router rule of
/// NVIDIA Dynamo: cache hits are worth as much as the load they save). Without any overlap it is power of two choices.
/// </summary>
public sealed class PrefixAwarePrefillPolicy(RouterRandom random, IOptions<WorkerOptions> options) : IPrefillWorkerPolicy
{
    private readonly double _weight = options.Value.PrefixOverlapWeight;

    public string Name => PolicyNames.PrefixAware;

    public bool ChoosesPerRequest => true;

    public PrefillCandidate? Choose(IReadOnlyList<PrefillCandidate> candidates, int batchBlocks)
    {
        if (!candidates.Any(c => c.OverlapBlocks > 0))
        {
            return PowerOfTwo.Choose(candidates, c => c.LoadBlocks, random);
        }

        PrefillCandidate? best = null;
        var bestCost = double.MaxValue;
        foreach (var candidate in candidates)
        {
            var cost = (_weight * Math.Max(0, batchBlocks - candidate.OverlapBlocks)) + candidate.LoadBlocks;
            if (cost < bestCost)
            {
                best = candidate;
                bestCost = cost;
            }
        }

        return best;
    }
}

/// <summary>Power of two choices on <see cref="DecodeCandidate.Load"/>.</summary>
public sealed class PowerOfTwoDecodePolicy(RouterRandom random) : IDecodeWorkerPolicy
{
    public string Name => PolicyNames.PowerOfTwo;

    public DecodeCandidate? Choose(IReadOnlyList<DecodeCandidate> candidates) => PowerOfTwo.Choose(candidates, c => c.Load, random);
}

/// <summary>The lowest <see cref="DecodeCandidate.Load"/> (fewest running sequences and least KV in use).</summary>
public sealed class LeastLoadedDecodePolicy : IDecodeWorkerPolicy
{
    public string Name => PolicyNames.LeastLoaded;

    public DecodeCandidate? Choose(IReadOnlyList<DecodeCandidate> candidates) =>
        candidates.Count == 0 ? null : candidates.MinBy(c => c.Load);
}

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
