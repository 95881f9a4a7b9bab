using MoeDapr.Router.Policies;
using static Microsoft.Extensions.Options.Options;
using static MoeDapr.Router.Tests.Infrastructure.Snapshots;

namespace MoeDapr.Router.Tests.Policies;

/// <summary>The worker choice policies on given candidates.</summary>
public sealed class WorkerChoiceTests
{
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
}
