using MoeDapr.Router.Policies;

namespace MoeDapr.Router.Workers;

/// <summary>The workers' load as batch planning reads it: queries only, nothing changes.</summary>
public interface IWorkerLoadView
{
    /// <summary>Prefill can run remotely: a prefill worker can take work and kv-transfer is healthy.</summary>
    bool DisaggregationAvailable { get; }

    /// <summary>Decode workers that can take a sequence now, in a stable order.</summary>
    IReadOnlyList<DecodeLoad> DecodeLoads();

    /// <summary>Prefill workers with fewer than <paramref name="maxInFlight"/> batches running, with their overlap with <paramref name="batchHashes"/>.</summary>
    IReadOnlyList<PrefillCandidate> PrefillCandidates(IReadOnlyList<UInt128[]> batchHashes, int maxInFlight);

    /// <summary>Leading prompt blocks a worker holds.</summary>
    int CachedPrefixBlocks(string appId, UInt128[] promptHashes);

    /// <summary>Average utilization of the available prefill workers.</summary>
    double PrefillUtilization(int maxInFlight);
}
