using MoeDapr.Cli.Bench;
using MoeDapr.Contracts;

namespace MoeDapr.Cli.Tests.Engine;

public sealed class BenchSamplingTests
{
    [Fact]
    public void ToEngine_EveryFieldSet_CarriesEveryField()
    {
        var wire = new SamplingParams
        {
            MaxTokens = 7,
            Temperature = 0.5f,
            TopP = 0.75f,
            TopK = 9,
            PresencePenalty = 0.25f,
            FrequencyPenalty = -0.5f,
            Seed = -3,
            StopTokenIds = [4, 5],
            StopStrings = ["\n\n", "END"],
            IgnoreEos = true,
            Logprobs = 3,
        };

        var engine = BenchSampling.ToEngine(wire);

        Assert.Equal(wire.MaxTokens, engine.MaxTokens);
        Assert.Equal(wire.Temperature, engine.Temperature, 6);
        Assert.Equal(wire.TopP, engine.TopP, 6);
        Assert.Equal(wire.TopK, engine.TopK);
        Assert.Equal(wire.PresencePenalty, engine.PresencePenalty, 6);
        Assert.Equal(wire.FrequencyPenalty, engine.FrequencyPenalty, 6);
        Assert.Equal(unchecked((ulong)wire.Seed.Value), engine.Seed);
        Assert.Equal(wire.StopTokenIds, engine.StopTokenIds);
        Assert.Equal(wire.StopStrings, engine.StopStrings);
        Assert.True(engine.IgnoreEos);
        Assert.Equal(3, engine.TopLogprobs);
    }

    [Fact]
    public void ToEngine_Defaults_StayDefaults()
    {
        var engine = BenchSampling.ToEngine(new SamplingParams());

        Assert.Null(engine.Seed);
        Assert.Equal(0, engine.TopLogprobs);
        Assert.Equal(new MoeDapr.Engine.Sampling.SamplingParams().TopP, engine.TopP);
    }

    [Fact]
    public void Create_IsGreedyPastEosForTheGivenLength()
    {
        var sampling = BenchSampling.Create(12);

        Assert.Equal(12, sampling.MaxTokens);
        Assert.Equal(0f, sampling.Temperature);
        Assert.True(sampling.IgnoreEos);
        Assert.Null(sampling.Validate());
    }
}
