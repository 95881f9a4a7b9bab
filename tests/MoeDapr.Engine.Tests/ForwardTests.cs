using MoeDapr.Contracts;

namespace MoeDapr.Engine.Tests;

public sealed class ForwardTests
{
    public static TheoryData<string> Families => new(TinyModels.Families);

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Logits_PagedChunkedPrompt_MatchPlainLoopReference(string family)
    {
        var config = TinyModels.Config(family);
        var weights = TinyModels.Weights(config);
        var reference = new ReferenceModel(config, weights);
        // Block size 4 and 16-token chunks: a 37-token prompt spans 10 blocks and three prefill chunks.
        var options = TinyModels.Options(blockSize: 4) with { MaxPrefillTokens = 16 };
        await using var engine = await InferenceEngine.CreateAsync(options, config, new MoeDapr.Engine.Checkpoint.InMemoryWeightSource(weights));
        var prompt = TinyModels.Prompt(37);

        var actual = await engine.LogitsAsync(prompt);
        var expected = reference.Logits(prompt);

        Assert.True(EngineTestExtensions.MaxAbsDiff(expected, actual) < 2e-4, $"max diff {EngineTestExtensions.MaxAbsDiff(expected, actual)}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Generate_IncrementalDecode_EqualsFullRecompute(string family)
    {
        await using var engine = await TinyModels.EngineAsync(family);
        var prompt = TinyModels.Prompt(9);

        var outputs = await engine.GenerateAllAsync("r", prompt, SamplingParams.Greedy(12) with { Logprobs = 1 });

        Assert.Equal(12, outputs.Count);
        var sequence = prompt.ToList();
        foreach (var output in outputs)
        {
            var full = await engine.LogitsAsync(sequence);
            var argmax = Array.IndexOf(full, full.Max());
            Assert.Equal(argmax, output.TokenId);
            var logNorm = Math.Log(full.Sum(z => Math.Exp(z - full.Max()))) + full.Max();
            Assert.InRange(output.Logprob, full[argmax] - logNorm - 1e-3, full[argmax] - logNorm + 1e-3);
            sequence.Add(output.TokenId);
        }

        Assert.Equal(FinishReason.Length, outputs[^1].FinishReason);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Logits_ExpertParallelSizesAndReplicas_AgreeWithSingleRank(string family)
    {
        var config = TinyModels.Config(family);
        var weights = TinyModels.Weights(config);
        var prompt = TinyModels.Prompt(21, salt: 3);
        float[]? baseline = null;
        foreach (var (ep, redundant) in new[] { (1, 0), (2, 0), (4, 0), (2, 2) })
        {
            var options = TinyModels.Options() with { ExpertParallelSize = ep, RedundantExperts = redundant };
            await using var engine = await InferenceEngine.CreateAsync(options, config, new MoeDapr.Engine.Checkpoint.InMemoryWeightSource(weights));
            var logits = await engine.LogitsAsync(prompt);
            baseline ??= logits;
            Assert.True(EngineTestExtensions.MaxAbsDiff(baseline, logits) < 1e-4, $"EP {ep} with {redundant} replicas differs by {EngineTestExtensions.MaxAbsDiff(baseline, logits)}");
            var moeLayer = config.MoeLayers[0];
            var load = engine.ExpertLoads.Single(x => x.Layer == moeLayer);
            Assert.Equal(ep, load.RankTokens.Length);
            Assert.Equal(config.NumExperts + redundant, load.Phy2Log.Length);
        }
    }

    [Fact]
    public async Task ExpertLoads_AfterPrompt_CountTopKAssignmentsPerLayer()
    {
        await using var engine = await TinyModels.EngineAsync("mixtral", TinyModels.Options() with { ExpertParallelSize = 2 });
        var prompt = TinyModels.Prompt(10);

        await engine.LogitsAsync(prompt);

        Assert.True(await Poll.EventuallyAsync(() => engine.ExpertLoads.Count == 2 && engine.ExpertLoads.All(l => l.ExpertTokens.Sum() == 20)));
        Assert.All(engine.ExpertLoads, l => Assert.Equal(20, l.RankTokens.Sum()));
    }
}
