using MoeDapr.Cli.Loadtest;

namespace MoeDapr.Cli.Tests.Loadtest;

public sealed class LoadtestSettingsTests
{
    [Theory]
    [InlineData("http://router:8080", "http://router:8080/v1/completions")]
    [InlineData("http://router:8080/", "http://router:8080/v1/completions")]
    [InlineData("http://router:8080/v1/completions", "http://router:8080/v1/completions")]
    [InlineData("https://gateway/moe/", "https://gateway/moe/v1/completions")]
    public void CompletionsUrl_BaseOrFullUrl_PointsAtCompletions(string url, string expected)
    {
        Assert.Equal(expected, (Valid() with { Url = url }).CompletionsUrl.ToString());
    }

    [Fact]
    public void Validate_GoodSettings_HasNoProblems()
    {
        Assert.Empty(Valid().Validate());
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEachNamingItsOption()
    {
        var problems = (Valid() with { TargetQps = -1, PromptLengthMin = 10, PromptLengthMax = 5, SloTpotMs = 20 }).Validate();

        Assert.Contains(problems, p => p.StartsWith("--target-qps", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--prompt-len-max", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("--slo-tpot needs --stream", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ScheduleTooLarge_NamesRateAndDuration()
    {
        var problems = (Valid() with { TargetQps = 1e6, DurationSeconds = 3600 }).Validate();

        Assert.Contains(problems, p => p.Contains("--target-qps × --duration", StringComparison.Ordinal));
    }

    [Fact]
    public void Poisson_LongRun_HasTheTargetRateAndExponentialGaps()
    {
        var arrivals = ArrivalSchedule.Poisson(100, TimeSpan.FromSeconds(100), new Random(5));

        // 10 000 expected; a Poisson count's standard deviation is 100.
        Assert.InRange(arrivals.Count, 9600, 10400);
        var gaps = arrivals.Zip(arrivals.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToArray();
        var mean = gaps.Average();
        var deviation = Math.Sqrt(gaps.Average(g => (g - mean) * (g - mean)));
        Assert.InRange(mean, 9.6, 10.4);
        Assert.InRange(deviation / mean, 0.95, 1.05);
        Assert.All(arrivals, a => Assert.True(a < TimeSpan.FromSeconds(100)));
    }

    private static LoadtestSettings Valid() => new()
    {
        Url = "http://localhost:8080",
        DurationSeconds = 10,
        TargetQps = 5,
        MaxNewTokens = 16,
        PromptLengthMin = 8,
        PromptLengthMax = 32,
    };
}
