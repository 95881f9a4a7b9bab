using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// Batch forming and placement, with no I/O: given the queue and the workers' load it takes the next jobs out of the
/// queue and says where each goes. A job leaves only when a decode worker can take it; a prompt served on decode leaves
/// alone, others form a prefill batch (size from the batch policy, token budget) placed prefix-aware over the prefill
/// workers. Decode placements of one batch count against the workers' slots as they are made, so a batch spreads over
/// the decode workers and ends once they are full. Called from the one dispatch loop, under the queue's lock.
/// </summary>
public sealed class BatchPlanner(
    IBatchSizePolicy batching, IPrefillWorkerPolicy prefillChoice, IDecodeWorkerPolicy decodeChoice, ServingPathPlanner paths,
    DegradedMode degraded, IOptions<BatchingOptions> batchOptions, IOptions<WorkerOptions> workerOptions)
{
    private readonly BatchingOptions _batch = batchOptions.Value;
    private readonly int _blockTokens = workerOptions.Value.BlockSize;

    /// <summary>Plans one step and removes its jobs from <paramref name="queue"/>.</summary>
    public DispatchPlan PlanNext(RequestQueue queue, IWorkerLoadView workers)
    {
        var preferShort = degraded.Enabled;
        if (queue.Peek(preferShort) is not { } head)
        {
            return DispatchPlan.Idle;
        }

        var decode = workers.DecodeLoads().ToList();
        if (decode.Count == 0)
        {
            return DispatchPlan.Idle;
        }

        var disaggregated = workers.DisaggregationAvailable;
        var (headPath, headDecode) = PlanFor(head, disaggregated, decode, workers);
        if (headDecode is null)
        {
            return new DispatchPlan { Disaggregated = disaggregated };
        }

        if (headPath != ServingPaths.Disaggregated)
        {
            queue.Remove(head);
            return new DispatchPlan { Advanced = true, Disaggregated = disaggregated, Routes = [new PlannedRoute(head, headPath, headDecode)] };
        }

        // Only requests actually waiting count: SLO-aware admission keeps the queue near its delay target, so batches grow
        // only when that target holds more than GrowQueueDepth requests. Counting refused requests as waiting grew batches
        // to 64 at three times capacity and pushed admitted TTFT past the objective (docs/figures.md).
        var signal = new BatchSignal(queue.Count, workers.PrefillUtilization(_batch.MaxInFlightBatchesPerWorker));
        var size = batching.NextBatchSize(signal);
        var plan = new DispatchPlan { Disaggregated = disaggregated, BatchSize = (size, signal) };
        var capacity = workers.PrefillCandidates([], _batch.MaxInFlightBatchesPerWorker);
        if (capacity.Count == 0)
        {
            return plan;
        }

        var local = new List<PlannedRoute>();
        var remote = new List<PlannedRoute>();
        queue.DequeueBatch(degraded.Enabled ? Math.Min(size, degraded.MaxBatchSize) : size, _batch.MaxBatchTokens, preferShort, job =>
        {
            var (path, decodeAppId) = PlanFor(job, disaggregated, decode, workers);
            if (decodeAppId is null)
            {
                return false;
            }

            Place(decode, decodeAppId);
            (path == ServingPaths.Disaggregated ? remote : local).Add(new PlannedRoute(job, path, decodeAppId));
            return true;
        });

        if (remote.Count == 0)
        {
            return plan with { Advanced = true, Routes = local };
        }

        var (assigned, blocks, overlap) = AssignPrefill(remote, capacity[0].AppId, workers);
        return plan with { Advanced = true, Routes = [.. local, .. assigned], PrefixRouting = (blocks, overlap) };
    }

    /// <summary>
    /// The prefill worker of each request of a batch. A policy that weighs prefix overlap chooses per request (as NVIDIA
    /// Dynamo's KV router does), so a batch mixing prefixes splits over the workers holding them; the blocks and hashes
    /// given to a worker earlier in the same batch count as its load and its cache. Other policies choose once per batch.
    /// </summary>
    private (List<PlannedRoute> Routes, long Blocks, long Overlap) AssignPrefill(List<PlannedRoute> remote, string fallback, IWorkerLoadView workers)
    {
        var maxInFlight = _batch.MaxInFlightBatchesPerWorker;
        if (!prefillChoice.ChoosesPerRequest)
        {
            var hashes = remote.Select(r => r.Job.PromptHashes).ToArray();
            var batchBlocks = hashes.Sum(h => h.Length);
            var choice = prefillChoice.Choose(workers.PrefillCandidates(hashes, maxInFlight), batchBlocks);
            var appId = choice?.AppId ?? fallback;
            return ([.. remote.Select(r => r with { PrefillAppId = appId })], batchBlocks, choice?.OverlapBlocks ?? 0);
        }

        var result = new List<PlannedRoute>(remote.Count);
        long totalBlocks = 0;
        long overlapBlocks = 0;
        var passLoad = new Dictionary<string, double>(StringComparer.Ordinal);
        var passHashes = new Dictionary<string, HashSet<UInt128>>(StringComparer.Ordinal);
        foreach (var route in remote)
        {
            var job = route.Job;
            var candidates = workers.PrefillCandidates([job.PromptHashes], maxInFlight);
            var adjusted = new PrefillCandidate[candidates.Count];
            for (var i = 0; i < candidates.Count; i++)
            {
                var c = candidates[i];
                var overlap = passHashes.TryGetValue(c.AppId, out var held) ? Math.Max(c.OverlapBlocks, LeadingIn(held, job.PromptHashes)) : c.OverlapBlocks;
                adjusted[i] = c with { LoadBlocks = c.LoadBlocks + passLoad.GetValueOrDefault(c.AppId), OverlapBlocks = overlap };
            }

            var choice = prefillChoice.Choose(adjusted, job.PromptHashes.Length);
            var appId = choice?.AppId ?? fallback;
            result.Add(route with { PrefillAppId = appId });
            var cached = choice?.OverlapBlocks ?? 0;
            totalBlocks += job.PromptHashes.Length;
            overlapBlocks += cached;
            passLoad[appId] = passLoad.GetValueOrDefault(appId) + ((job.PromptTokens + _blockTokens - 1) / _blockTokens) - cached;
            if (!passHashes.TryGetValue(appId, out var set))
            {
                passHashes[appId] = set = [];
            }

            set.UnionWith(job.PromptHashes);
        }

        return (result, totalBlocks, overlapBlocks);
    }

    private static int LeadingIn(HashSet<UInt128> held, UInt128[] hashes)
    {
        var n = 0;
        while (n < hashes.Length && held.Contains(hashes[n]))
        {
            n++;
        }

        return n;
    }

    /// <summary>The serving path and decode worker of one job; no worker when none has room left.</summary>
    private (string Path, string? DecodeAppId) PlanFor(GenerationJob job, bool disaggregated, List<DecodeLoad> decode, IWorkerLoadView workers)
    {
        var decodeAppId = decodeChoice.Choose([.. decode.Where(d => d.HasRoom).Select(d => d.Candidate)])?.AppId;
        var cached = decodeAppId is null ? 0 : workers.CachedPrefixBlocks(decodeAppId, job.PromptHashes);
        return (paths.Plan(job.PromptTokens, job.PromptHashes.Length, cached, disaggregated), decodeAppId);
    }

    private static void Place(List<DecodeLoad> decode, string appId)
    {
        var i = decode.FindIndex(d => d.AppId == appId);
        decode[i] = decode[i].WithOneMore();
    }
}
