using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Policies;

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
