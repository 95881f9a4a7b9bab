using MoeDapr.Contracts;
using MoeDapr.Engine.Sampling;

namespace MoeDapr.Engine.Tests;

public sealed class SamplerTests
{
    private static readonly float[] Logits = [1.0f, 3.0f, 2.5f, 0.5f, 2.9f, -1f];

    [Fact]
    public void Sample_Greedy_PicksArgmaxWithItsLogprob()
    {
        var token = Sampler.Sample(Logits, SamplingParams.Greedy(1) with { Logprobs = 3 }, [], 0);

        Assert.Equal(1, token.TokenId);
        var logNorm = Math.Log(Logits.Sum(x => Math.Exp(x)));
        Assert.Equal(3.0 - logNorm, token.Logprob, 4);
        Assert.Equal([1, 4, 2], token.TopLogprobs.Select(t => t.TokenId));
    }

    [Fact]
    public void Sample_SameSeedAndIndex_SameToken_OtherSeedsVary()
    {
        var sampling = new SamplingParams { Temperature = 1.5f };
        var first = Enumerable.Range(0, 20).Select(i => Sampler.Sample(Logits, sampling, new int[i], 77).TokenId).ToArray();
        var again = Enumerable.Range(0, 20).Select(i => Sampler.Sample(Logits, sampling, new int[i], 77).TokenId).ToArray();
        var other = Enumerable.Range(0, 20).Select(i => Sampler.Sample(Logits, sampling, new int[i], 78).TokenId).ToArray();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.True(first.Distinct().Count() > 1);
    }

    [Fact]
    public void Sample_TopK2_OnlyDrawsTheTwoBest()
    {
        var sampling = new SamplingParams { Temperature = 5, TopK = 2 };

        var drawn = Enumerable.Range(0, 200).Select(seed => Sampler.Sample(Logits, sampling, [], (ulong)seed).TokenId).ToHashSet();

        Assert.Equal([1, 4], drawn.Order());
    }

    [Fact]
    public void Sample_TopPSmall_KeepsOnlyTheMostLikely()
    {
        var sampling = new SamplingParams { Temperature = 1, TopP = 0.05f };

        var drawn = Enumerable.Range(0, 100).Select(seed => Sampler.Sample(Logits, sampling, [], (ulong)seed).TokenId).ToHashSet();

        Assert.Equal([1], drawn);
    }

    [Fact]
    public void Sample_TemperatureDraws_FollowSoftmaxFrequencies()
    {
        var sampling = new SamplingParams { Temperature = 1 };
        var counts = new int[Logits.Length];
        for (var seed = 0; seed < 4000; seed++)
        {
            counts[Sampler.Sample(Logits, sampling, [], (ulong)seed).TokenId]++;
        }

        var expected = Logits.Select(x => Math.Exp(x)).ToArray();
        var total = expected.Sum();
        for (var i = 0; i < Logits.Length; i++)
        {
            Assert.InRange(counts[i] / 4000.0, (expected[i] / total) - 0.03, (expected[i] / total) + 0.03);
        }
    }

    [Fact]
    public void Sample_PresenceAndFrequencyPenalties_MoveAwayFromRepeatedToken()
    {
        Assert.Equal(4, Sampler.Sample(Logits, SamplingParams.Greedy(1) with { PresencePenalty = 0.2f }, [1], 0).TokenId);
        Assert.Equal(1, Sampler.Sample(Logits, SamplingParams.Greedy(1) with { FrequencyPenalty = 0.06f }, [1], 0).TokenId);
        Assert.Equal(4, Sampler.Sample(Logits, SamplingParams.Greedy(1) with { FrequencyPenalty = 0.06f }, [1, 1], 0).TokenId);
    }

    [Fact]
    public void Validate_BadTopP_NamesTheField()
    {
        var error = new SamplingParams { TopP = 0 }.Validate(10);

        Assert.StartsWith("topP:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_StopTokenOutsideVocabulary_NamesTheField()
    {
        Assert.Null(new SamplingParams { StopTokenIds = [9] }.Validate(10));
        Assert.StartsWith("stopTokenIds:", new SamplingParams { StopTokenIds = [10] }.Validate(10), StringComparison.Ordinal);
    }

    [Fact]
    public void Uniform_IsAFunctionOfSeedAndIndex()
    {
        Assert.Equal(CounterRandom.Uniform(5, 3), CounterRandom.Uniform(5, 3));
        Assert.NotEqual(CounterRandom.Uniform(5, 3), CounterRandom.Uniform(5, 4));
        Assert.InRange(Enumerable.Range(0, 10000).Average(i => CounterRandom.Uniform(1, i)), 0.48, 0.52);
    }
}
