using MoeDapr.Cli.Bench;
using MoeDapr.Contracts;

namespace MoeDapr.Cli.Tests.Engine;

public sealed class BenchSamplingTests
{
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
