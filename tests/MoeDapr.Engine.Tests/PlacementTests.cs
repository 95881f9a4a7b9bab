using MoeDapr.Contracts;

namespace MoeDapr.Engine.Tests;

public sealed class PlacementTests
{
    [Fact]
    public async Task ApplyPlacement_MidGeneration_GivesSameTokens()
    {
        var options = TinyModels.Options() with { ExpertParallelSize = 2, RedundantExperts = 2 };
        var prompt = TinyModels.Prompt(11);
        var sampling = new SamplingParams { Temperature = 0.7f, Seed = 9, MaxTokens = 12 };
        await using var engine = await TinyModels.EngineAsync("mixtral", options);
        var expected = (await engine.GenerateAllAsync("before", prompt, sampling)).Ids();

        var tokens = new List<int>();
        await foreach (var output in engine.GenerateAsync(new GenerateRequest { RequestId = "moving", PromptTokens = prompt, Sampling = sampling }))
        {
            tokens.Add(output.TokenId);
            if (tokens.Count == 4)
            {
                // Reverse the experts and replicate the two hottest-numbered ones on the other rank.
                await engine.ApplyPlacementAsync(0, [3, 2, 1, 0, 1, 0]);
                await engine.ApplyPlacementAsync(1, [0, 0, 2, 1, 3, 1]);
            }
        }

        Assert.Equal(expected, tokens);
        Assert.Equal([3, 2, 1, 0, 1, 0], engine.ExpertLoads.Single(l => l.Layer == 0).Phy2Log);
    }

    [Fact]
    public async Task ApplyPlacement_MissingExpert_IsRejected()
    {
        await using var engine = await TinyModels.EngineAsync("mixtral", TinyModels.Options() with { ExpertParallelSize = 2 });

        var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.ApplyPlacementAsync(0, [0, 1, 1, 0]));

        Assert.Contains("expert 2", error.Message, StringComparison.Ordinal);
    }
}
