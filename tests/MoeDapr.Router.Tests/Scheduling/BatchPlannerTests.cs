using MoeDapr.Model;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Workers;
using static Microsoft.Extensions.Options.Options;

namespace MoeDapr.Router.Tests.Scheduling;

/// <summary>Batch forming and placement on a given queue and given worker load: no registry, no calls, no clock.</summary>
public sealed class BatchPlannerTests
{
    private const int BlockSize = 16;
    private static readonly BatchingOptions Batching = new() { Policy = "fixed", InitialBatchSize = 8, MaxBatchTokens = 100_000, MaxInFlightBatchesPerWorker = 1 };
    private readonly RequestQueue _queue = new();
    private readonly GivenLoad _load = new();

    private static BatchPlanner Planner(IPrefillWorkerPolicy prefill, WorkerOptions? workers = null)
    {
        var workerOptions = Create(workers ?? new WorkerOptions { LocalPrefillMaxTokens = 8, BlockSize = BlockSize });
        return new BatchPlanner(
            new FixedBatchSizePolicy(Create(Batching)), prefill, new LeastLoadedDecodePolicy(), new ServingPathPlanner(workerOptions),
            new DegradedMode(new StaticOptionsMonitor<DegradedOptions>(new DegradedOptions())), Create(Batching), workerOptions);
    }

    private static BatchPlanner Planner() => Planner(new PowerOfTwoPrefillPolicy(new RouterRandom(new Random(3))));

    private GenerationJob Enqueue(string id, int[] prompt)
    {
        var job = new GenerationJob(id, prompt, new SamplingParams(), RequestPriority.Normal, PrefixBlockHash.Chain(prompt, BlockSize), 0);
        _queue.Add(job);
        return job;
    }

    private GenerationJob Enqueue(string id, int promptTokens) => Enqueue(id, [.. Enumerable.Range(3, promptTokens)]);

    private static DecodeLoad Decode(string appId, int maxRunning) => new(appId, 0, 0, maxRunning, 0.1, KvSaturated: false, InFlight: 0);

    [Fact]
    public void PlanNext_ShortPromptAtTheHead_LeavesAloneToBePrefilledOnDecode()
    {
        _load.Decode.Add(Decode("d1", 8));
        _load.Prefill.Add(new PrefillCandidate("p1", 0, 0));
        var head = Enqueue("short", 4);
        Enqueue("long", 100);

        var plan = Planner().PlanNext(_queue, _load);

        Assert.True(plan.Advanced);
        Assert.Equal(new PlannedRoute(head, ServingPaths.LocalPrefill, "d1"), Assert.Single(plan.Routes));
        Assert.Null(plan.BatchSize);
        Assert.Equal(1, _queue.Count);
    }

    [Fact]
    public void PlanNext_BatchLargerThanTheDecodeSlots_PlacementsCountAsTheyAreMadeAndTheRestStaysQueued()
    {
        _load.Decode.Add(Decode("d1", 2));
        _load.Decode.Add(Decode("d2", 1));
        _load.Prefill.Add(new PrefillCandidate("p1", 0, 0));
        var jobs = Enumerable.Range(0, 5).Select(i => Enqueue($"r{i}", 100)).ToArray();

        var plan = Planner().PlanNext(_queue, _load);

        // Least loaded first, each placement raising its worker's load: d1, d2 (now full), d1 (now full), then none.
        Assert.Equal(["d1", "d2", "d1"], plan.Routes.Select(r => r.DecodeAppId));
        Assert.All(plan.Routes, r => Assert.Equal((ServingPaths.Disaggregated, "p1"), (r.Path, r.PrefillAppId)));
        Assert.Equal(jobs.Take(3), plan.Routes.Select(r => r.Job));
        Assert.Equal(2, _queue.Count);
        Assert.Equal(0, _load.Decode.Sum(d => d.InFlight)); // the given load is read, never changed
    }

    [Fact]
    public void PlanNext_NoPrefillWorkerWithRoom_NothingLeavesButTheBatchSizeIsReported()
    {
        _load.Decode.Add(Decode("d1", 8)); // prefill is up, but its worker runs as many batches as it may
        Enumerable.Range(0, 3).Select(i => Enqueue($"r{i}", 100)).ToArray();

        var plan = Planner().PlanNext(_queue, _load);

        Assert.False(plan.Advanced);
        Assert.Empty(plan.Routes);
        Assert.Equal(Batching.InitialBatchSize, plan.BatchSize?.Size);
        Assert.Equal(3, plan.BatchSize?.Signal.QueuedRequests);
        Assert.Equal(3, _queue.Count);
    }

    [Fact]
    public void PlanNext_NoDecodeWorker_NothingIsPlanned()
    {
        _load.Prefill.Add(new PrefillCandidate("p1", 0, 0));
        Enqueue("r0", 100);

        var plan = Planner().PlanNext(_queue, _load);

        Assert.Same(DispatchPlan.Idle, plan);
        Assert.Equal(1, _queue.Count);
    }

    [Fact]
    public void PlanNext_BatchSharingOnePrefix_PrefixesPlacedEarlierInTheBatchCountAsCached()
    {
        _load.Decode.Add(Decode("d1", 64));
        _load.Prefill.Add(new PrefillCandidate("p1", 0, 0));
        _load.Prefill.Add(new PrefillCandidate("p2", 0, 0));
        var prefix = Enumerable.Range(3, 10 * BlockSize).ToArray();
        Enumerable.Range(0, 4).Select(i => Enqueue($"r{i}", [.. prefix, 1000 + i])).ToArray();
        var weight = new WorkerOptions { LocalPrefillMaxTokens = 8, BlockSize = BlockSize, PrefixOverlapWeight = 2 };

        var plan = Planner(new PrefixAwarePrefillPolicy(new RouterRandom(new Random(3)), Create(weight)), weight).PlanNext(_queue, _load);

        // Neither worker holds the prefix; once the first request is placed, its worker does.
        Assert.Single(plan.Routes.Select(r => r.PrefillAppId).Distinct());
        Assert.Equal((40L, 30L), plan.PrefixRouting);
    }

    /// <summary>Load as given by the test; prefill candidates overlap nothing and decode caches nothing.</summary>
    private sealed class GivenLoad : IWorkerLoadView
    {
        public List<DecodeLoad> Decode { get; } = [];

        public List<PrefillCandidate> Prefill { get; } = [];

        public bool DisaggregationAvailable { get; set; } = true;

        public IReadOnlyList<DecodeLoad> DecodeLoads() => [.. Decode];

        public IReadOnlyList<PrefillCandidate> PrefillCandidates(IReadOnlyList<UInt128[]> batchHashes, int maxInFlight) => [.. Prefill];

        public int CachedPrefixBlocks(string appId, UInt128[] promptHashes) => 0;

        public double PrefillUtilization(int maxInFlight) => 0.5;
    }
}
