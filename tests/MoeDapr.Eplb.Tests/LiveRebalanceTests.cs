using MoeDapr.Contracts;
using MoeDapr.Decode.Eplb;
using MoeDapr.Engine;
using MoeDapr.Eplb.Tests.Infrastructure;

namespace MoeDapr.Eplb.Tests;

/// <summary>A plan applied while sequences are being generated: same tokens, new placement, the moves logged and counted.</summary>
public sealed class LiveRebalanceTests
{
    private static GenerateRequest Request(string prefix, int i) => new()
    {
        RequestId = $"{prefix}-{i}",
        PromptTokens = TinyMoe.Prompt(9 + i, i),
        // Long enough (and never cut short by EOS) that a plan applied after the first tokens lands while they run,
        // even when a busy machine makes the move slow.
        Sampling = i % 2 == 0
            ? SamplingParams.Greedy(400) with { IgnoreEos = true }
            : new SamplingParams { Temperature = 0.8f, Seed = 5 + i, MaxTokens = 400, IgnoreEos = true },
    };

    [Theory]
    [InlineData(2, 0)]
    [InlineData(2, 2)]
    [InlineData(4, 4)]
    public async Task ApplyAsync_PlanMidGeneration_KeepsEveryInFlightSequenceTokenForToken(int ranks, int redundant)
    {
        await using var engine = await TinyMoe.EngineAsync(ranks, redundant);
        var expected = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => engine.GenerateAllAsync(Request("reference", i))));
        var initial = engine.ExpertLoads.Select(l => l.Phy2Log).ToArray();
        var (plan, _) = Applier.PlanFromCounters(engine);
        Assert.NotEqual(initial, plan.Phy2Log); // experts do move
        var metrics = Applier.Metrics();
        var logger = new ListLogger<PlanApplier>();
        var applier = Applier.Create(metrics, logger);

        var firstTokens = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outputs = Enumerable.Range(0, 4).Select(_ => new List<TokenOutput>()).ToArray();
        var counts = new int[4];
        var generations = Enumerable.Range(0, 4).Select(async i =>
        {
            await foreach (var output in engine.GenerateAsync(Request("moving", i)))
            {
                outputs[i].Add(output);
                Interlocked.Increment(ref counts[i]);
                if (i == 0 && outputs[i].Count == 3)
                {
                    firstTokens.TrySetResult();
                }
            }
        }).ToArray();
        await firstTokens.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var applied = await applier.ApplyAsync(engine, plan, CancellationToken.None);
        var atMove = Enumerable.Range(0, 4).Select(i => Volatile.Read(ref counts[i])).ToArray();
        await Task.WhenAll(generations).WaitAsync(TimeSpan.FromSeconds(60));
        var stillRunning = Enumerable.Range(0, 4).Count(i => atMove[i] < outputs[i].Count);

        Assert.NotNull(applied);
        Assert.True(stillRunning > 0, "the plan should land while sequences are in flight");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(expected[i].Select(o => o.TokenId), outputs[i].Select(o => o.TokenId));
        }

        Assert.Equal(plan.Phy2Log, engine.ExpertLoads.Select(l => l.Phy2Log));
        Assert.Equal(1, applier.AppliedVersion);
        Assert.Equal(1, metrics.Rebalances.Value);
        Assert.Contains(logger.Lines, l => l.Contains("EPLB: expert", StringComparison.Ordinal) && l.Contains("to rank", StringComparison.Ordinal));
        Assert.All(applied.Layers, l => Assert.True(l.Pause > TimeSpan.Zero));
    }

    [Fact]
    public async Task ApplyAsync_SameVersionTwice_MovesNothingTheSecondTime()
    {
        await using var engine = await TinyMoe.EngineAsync(2, 2);
        await engine.GenerateAllAsync(Request("warm", 0));
        var (plan, _) = Applier.PlanFromCounters(engine);
        var metrics = Applier.Metrics();
        var applier = Applier.Create(metrics);

        Assert.NotNull(await applier.ApplyAsync(engine, plan, CancellationToken.None));
        Assert.Null(await applier.ApplyAsync(engine, plan, CancellationToken.None));
        Assert.Equal(1, metrics.Rebalances.Value);
    }

    [Fact]
    public async Task ApplyAsync_PlanForAnotherShape_IsIgnoredAndPlacementKept()
    {
        await using var engine = await TinyMoe.EngineAsync(2, 2);
        var before = engine.ExpertLoads.Select(l => l.Phy2Log).ToArray();
        var (plan, _) = Applier.PlanFromCounters(engine);
        var logger = new ListLogger<PlanApplier>();
        var applier = Applier.Create(Applier.Metrics(), logger);

        var result = await applier.ApplyAsync(engine, plan with { Ranks = 4 }, CancellationToken.None);

        Assert.Null(result);
        Assert.Equal(before, engine.ExpertLoads.Select(l => l.Phy2Log));
        Assert.Contains(logger.Lines, l => l.Contains("ignored", StringComparison.Ordinal) && l.Contains("4 ranks", StringComparison.Ordinal));
    }
}
