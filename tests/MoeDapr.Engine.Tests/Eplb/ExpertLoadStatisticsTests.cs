using MoeDapr.Engine.Eplb;

namespace MoeDapr.Engine.Tests.Eplb;

public sealed class ExpertLoadStatisticsTests
{
    [Fact]
    public void Gini_EqualCounts_IsZero()
    {
        Assert.Equal(0, ExpertLoadStatistics.Gini([25L, 25, 25, 25]), 12);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    [InlineData(64)]
    public void Gini_AllTokensOnOneExpert_IsOneForAnyExpertCount(int experts)
    {
        var counts = new long[experts];
        counts[experts / 2] = 1000;

        Assert.Equal(1, ExpertLoadStatistics.Gini(counts), 12);
    }

    [Fact]
    public void Gini_KnownCounts_MatchesMeanAbsoluteDifferenceDefinition()
    {
        // Σ|xi − xj| over ordered pairs of [1, 2, 3, 6] is 2·(1+2+5+1+4+3) = 32; G = 32 / (2·n²·mean) = 32 / 96,
        // scaled by n / (n − 1) = 4/3.
        Assert.Equal(32.0 / 96 * 4 / 3, ExpertLoadStatistics.Gini([1L, 2, 3, 6]), 12);
    }

    [Fact]
    public void Gini_NoTokens_IsZero()
    {
        Assert.Equal(0, ExpertLoadStatistics.Gini([0L, 0, 0]));
    }

    [Fact]
    public void Gini_NegativeCount_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ExpertLoadStatistics.Gini([1.0, -2.0]));
    }

    [Fact]
    public void MaxOverMean_OneHotExpert_IsItsMultipleOfTheMean()
    {
        // Mean 40 / 4 = 10; max 25.
        Assert.Equal(2.5, ExpertLoadStatistics.MaxOverMean([25L, 5, 5, 5]), 12);
    }

    [Fact]
    public void MaxOverMean_NoTokens_IsOne()
    {
        Assert.Equal(1, ExpertLoadStatistics.MaxOverMean([0L, 0]));
    }

    [Fact]
    public void UtilizationShares_SumToOne()
    {
        var shares = ExpertLoadStatistics.UtilizationShares([30L, 10, 0, 60]);

        Assert.Equal([0.3, 0.1, 0.0, 0.6], shares);
    }
}
