using MoeDapr.Contracts;
using MoeDapr.Model;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Tests.Infrastructure;
using MoeDapr.Router.Workers;
using static Microsoft.Extensions.Options.Options;

namespace MoeDapr.Router.Tests.Policies;

public sealed class WorkerChoiceTests
{
    private static readonly WorkerOptions Settings = new() { StaleAfter = TimeSpan.FromSeconds(3), FailureCooldown = TimeSpan.FromSeconds(5), LocalPrefillMaxTokens = 32 };

    private static WorkerLoadSnapshot Snapshot(string appId, WorkerRole role, long sequence = 1, int running = 0, int queued = 0, int maxRunning = 16,
        double kvUsage = 0, long queuedTokens = 0, IReadOnlyList<string>? cached = null) => new()
    {
        AppId = appId,
        Role = role,
        InstanceId = "i-" + appId,
        Sequence = sequence,
        TimestampUnixMs = 0,
        RunningSequences = running,
        QueuedRequests = queued,
        MaxRunningSequences = maxRunning,
        KvBlocksUsed = (int)(kvUsage * 100),
        KvBlocksTotal = 100,
        QueuedTokens = queuedTokens,
        CachedBlockHashes = cached,
    };

    [Fact]
    public void PrefillCandidates_SnapshotLoadAndOwnCalls_NotCountedTwiceAndStaleLoadDropped()
    {
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(time, Create(Settings));
        registry.Apply(Snapshot("p1", WorkerRole.Prefill, queuedTokens: 320)); // the worker runs the batch below
        registry.Started("p1", 320);

        Assert.Equal(20, Assert.Single(registry.PrefillCandidates([], 4)).LoadBlocks); // 320 tokens, not 640

        time.Advance(TimeSpan.FromMilliseconds(200));
        registry.Completed("p1", 320, failed: false);

        // The snapshot still says 320 tokens, but the call ended after it was taken: a repeated prefix must not look
        // more expensive on the worker holding it only because its last snapshot predates the end of its last batch.
        Assert.Equal(0, Assert.Single(registry.PrefillCandidates([], 4)).LoadBlocks);
    }

    [Fact]
    public void Choose_PowerOfTwo_PicksTheLessLoadedOfTheTwoDrawn()
    {
        var policy = new PowerOfTwoDecodePolicy(new RouterRandom(new Random(7)));
        DecodeCandidate[] candidates = [new("busy", 15, 0, 16, 0.9), new("idle", 1, 0, 16, 0.1)];

        // With two candidates both are always drawn, so the idle one must win every time.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("idle", policy.Choose(candidates)!.AppId);
        }
    }

    [Fact]
    public void Choose_PowerOfTwoOverMany_NeverPicksTheMostLoaded()
    {
        var policy = new PowerOfTwoDecodePolicy(new RouterRandom(new Random(1)));
        var candidates = Enumerable.Range(0, 5).Select(i => new DecodeCandidate($"d{i}", i * 3, 0, 16, 0)).ToArray();

        var picks = Enumerable.Range(0, 200).Select(_ => policy.Choose(candidates)!.AppId).ToList();

        Assert.DoesNotContain("d4", picks);
        Assert.True(picks.Distinct().Count() >= 3, "load should still spread over several workers");
    }

    [Fact]
    public void Choose_LeastLoaded_WeighsRunningSequencesAndKvUsage()
    {
        var policy = new LeastLoadedDecodePolicy();
        DecodeCandidate[] candidates = [new("few-seqs-full-kv", 2, 0, 16, 0.9), new("more-seqs-empty-kv", 6, 0, 16, 0.1)];

        Assert.Equal("more-seqs-empty-kv", policy.Choose(candidates)!.AppId);
    }

    [Fact]
    public void Choose_PrefixAware_PrefersOverlapOverSlightlyLowerLoad()
    {
        var policy = new PrefixAwarePrefillPolicy(new RouterRandom(new Random(3)), Create(Settings));
        PrefillCandidate[] candidates = [new("cold-idle", LoadBlocks: 2, OverlapBlocks: 0), new("warm-busier", LoadBlocks: 6, OverlapBlocks: 30)];

        Assert.Equal("warm-busier", policy.Choose(candidates, batchBlocks: 32)!.AppId);
    }

    [Fact]
    public void Choose_PrefixAware_LoadWinsWhenTheCachedWorkerIsSwamped()
    {
        var policy = new PrefixAwarePrefillPolicy(new RouterRandom(new Random(3)), Create(Settings));
        PrefillCandidate[] candidates = [new("cold-idle", 0, 0), new("warm-swamped", 500, 30)];

        Assert.Equal("cold-idle", policy.Choose(candidates, batchBlocks: 32)!.AppId);
    }

    [Fact]
    public void PrefillCandidates_OverlapCountsOnlyTheLeadingRunOfCachedBlocks()
    {
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(time, Create(Settings));
        var prompt = Enumerable.Range(0, 64).ToArray();
        var hashes = PrefixBlockHash.Chain(prompt, 16);
        // The worker holds blocks 0, 1 and 3 but not 2: only the first two are reusable.
        registry.Apply(Snapshot("p", WorkerRole.Prefill, cached: [PrefixBlockHash.ToHex(hashes[0]), PrefixBlockHash.ToHex(hashes[1]), PrefixBlockHash.ToHex(hashes[3])]));

        var candidate = Assert.Single(registry.PrefillCandidates([hashes], maxInFlight: 2));

        Assert.Equal(2, candidate.OverlapBlocks);
    }

    [Fact]
    public void PrefillCandidates_RoutedPromptsCountAsCachedUntilTheNextSnapshot()
    {
        var registry = new WorkerRegistry(new ManualTimeProvider(), Create(Settings));
        registry.Apply(Snapshot("p1", WorkerRole.Prefill));
        registry.Apply(Snapshot("p2", WorkerRole.Prefill));
        var hashes = PrefixBlockHash.Chain(Enumerable.Range(0, 48).ToArray(), 16);
        var policy = new PrefixAwarePrefillPolicy(new RouterRandom(new Random(5)), Create(Settings));

        registry.Started("p2", 48, [hashes]);
        registry.Completed("p2", 48, failed: false);

        Assert.Equal("p2", policy.Choose(registry.PrefillCandidates([hashes], 2), 3)!.AppId);
    }

    [Fact]
    public void DecodeCandidates_SnapshotOlderThanStaleAfter_ExcludesTheWorker()
    {
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(time, Create(Settings));
        registry.Apply(Snapshot("d1", WorkerRole.Decode));
        time.Advance(TimeSpan.FromSeconds(2));
        registry.Apply(Snapshot("d2", WorkerRole.Decode));

        time.Advance(TimeSpan.FromSeconds(2)); // d1 is 4 s old, d2 2 s

        Assert.Equal(["d2"], registry.DecodeCandidates().Select(c => c.AppId));

        registry.Apply(Snapshot("d1", WorkerRole.Decode, sequence: 2));
        Assert.Equal(2, registry.DecodeCandidates().Count);
    }

    [Fact]
    public void DecodeCandidates_SaturatedOrFailedWorkers_GetNoWorkUntilTheyRecover()
    {
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(time, Create(Settings));
        registry.Apply(Snapshot("kv-full", WorkerRole.Decode, kvUsage: 0.97));
        registry.Apply(Snapshot("slots-full", WorkerRole.Decode, running: 16, queued: 16));
        registry.Apply(Snapshot("failing", WorkerRole.Decode));
        registry.Apply(Snapshot("fine", WorkerRole.Decode));
        registry.Started("failing", 10);
        registry.Completed("failing", 10, failed: true);

        Assert.Equal(["fine"], registry.DecodeCandidates().Select(c => c.AppId));

        time.Advance(TimeSpan.FromSeconds(2));
        registry.Apply(Snapshot("failing", WorkerRole.Decode, sequence: 2));
        Assert.Equal(["fine"], registry.DecodeCandidates().Select(c => c.AppId));
        time.Advance(TimeSpan.FromSeconds(3.5)); // cool-down over; its last snapshot is 3.5 s old → refresh it
        registry.Apply(Snapshot("failing", WorkerRole.Decode, sequence: 3));
        Assert.Contains("failing", registry.DecodeCandidates().Select(c => c.AppId));
    }

    [Fact]
    public void Apply_OlderSequenceFromSameInstance_IsIgnored()
    {
        var registry = new WorkerRegistry(new ManualTimeProvider(), Create(Settings));

        Assert.True(registry.Apply(Snapshot("d", WorkerRole.Decode, sequence: 5, running: 1)));
        Assert.False(registry.Apply(Snapshot("d", WorkerRole.Decode, sequence: 4, running: 9)));
        Assert.Equal(1, Assert.Single(registry.DecodeCandidates()).RunningSequences);
    }

    [Fact]
    public void Plan_PrefillWorkerGoesStaleAndReturns_SwitchesToAggregatedAndBack()
    {
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(time, Create(Settings));
        var planner = new ServingPathPlanner(Create(Settings));
        string Plan() => planner.Plan(promptTokens: 200, promptBlocks: 12, decodeCachedBlocks: 0, registry.DisaggregationAvailable);
        registry.Apply(Snapshot("p", WorkerRole.Prefill));
        registry.ReportKvTransferProbe(true);
        Assert.Equal(ServingPaths.Disaggregated, Plan());

        time.Advance(TimeSpan.FromSeconds(4)); // prefill stopped publishing (and the kv-transfer probe is old too)
        Assert.Equal(ServingPaths.Aggregated, Plan());

        registry.Apply(Snapshot("p", WorkerRole.Prefill, sequence: 2));
        registry.ReportKvTransferProbe(true);
        Assert.Equal(ServingPaths.Disaggregated, Plan());

        registry.ReportKvTransferProbe(false); // kv-transfer down: no remote prefill either
        Assert.Equal(ServingPaths.Aggregated, Plan());
    }

    [Theory]
    [InlineData(20, 1, 0, ServingPaths.LocalPrefill)] // short prompt
    [InlineData(200, 12, 11, ServingPaths.LocalPrefill)] // 92% in decode's cache
    [InlineData(200, 12, 6, ServingPaths.Disaggregated)] // half cached: prefill remotely
    public void Plan_ShortOrCachedPrompts_PrefillOnDecode(int tokens, int blocks, int cached, string expected)
    {
        var planner = new ServingPathPlanner(Create(Settings));

        Assert.Equal(expected, planner.Plan(tokens, blocks, cached, disaggregationAvailable: true));
    }
}
