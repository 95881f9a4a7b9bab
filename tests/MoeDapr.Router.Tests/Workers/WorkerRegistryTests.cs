using MoeDapr.Model;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Workers;
using static Microsoft.Extensions.Options.Options;
using static MoeDapr.Router.Tests.Infrastructure.Snapshots;

namespace MoeDapr.Router.Tests.Workers;

/// <summary>What the registry makes of snapshots and of the work the router leased.</summary>
public sealed class WorkerRegistryTests
{
    [Fact]
    public void PrefillCandidates_SnapshotLoadAndOwnCalls_NotCountedTwiceAndStaleLoadDropped()
    {
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(time, Create(Settings));
        registry.Apply(Snapshot("p1", WorkerRole.Prefill, queuedTokens: 320)); // the worker runs the batch below
        var batch = registry.Lease("p1", 320);

        Assert.Equal(20, Assert.Single(registry.PrefillCandidates([], 4)).LoadBlocks); // 320 tokens, not 640

        time.Advance(TimeSpan.FromMilliseconds(200));
        batch.Release(failed: false);

        // The snapshot still says 320 tokens, but the call ended after it was taken: a repeated prefix must not look
        // more expensive on the worker holding it only because its last snapshot predates the end of its last batch.
        Assert.Equal(0, Assert.Single(registry.PrefillCandidates([], 4)).LoadBlocks);
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

        registry.Lease("p2", 48, [hashes]).Release(failed: false);

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
        registry.Lease("failing", 10).Release(failed: true);

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
}
