using MoeDapr.Cli.Statistics;

namespace MoeDapr.Cli.Tests.Statistics;

public sealed class SampleStatisticsTests
{
    [Theory]
    [InlineData(50, 2.5)]
    [InlineData(0, 1)]
    [InlineData(100, 4)]
    [InlineData(90, 3.7)]
    public void Percentile_FourValues_InterpolatesBetweenRanks(double percent, double expected)
    {
        Assert.Equal(expected, SampleStatistics.Percentile([1, 2, 3, 4], percent), 12);
    }

    [Fact]
    public void Percentile_NoValues_Throws()
    {
        Assert.Throws<ArgumentException>(() => SampleStatistics.Percentile([], 50));
    }

    [Fact]
    public void Median_EvenCount_IsTheMeanOfTheTwoMiddleValues()
    {
        Assert.Equal(2.5, SampleStatistics.Median([4, 1, 3, 2]), 12);
    }

    [Fact]
    public void Median_OddCount_IsTheMiddleValue()
    {
        Assert.Equal(3, SampleStatistics.Median([5, 1, 3, 4, 2]), 12);
    }

    [Fact]
    public void Median_NoValues_IsNaN()
    {
        Assert.True(double.IsNaN(SampleStatistics.Median([])));
    }

    [Fact]
    public void Median_LeavesTheInputInItsOrder()
    {
        List<double> rounds = [3, 1, 2];

        SampleStatistics.Median(rounds);

        Assert.Equal([3, 1, 2], rounds);
    }

    [Fact]
    public void Quartiles_OneToNine_AreTheThirdAndSeventhValues()
    {
        var (lower, upper) = SampleStatistics.Quartiles([9, 8, 7, 6, 5, 4, 3, 2, 1]);

        Assert.Equal(3, lower, 12);
        Assert.Equal(7, upper, 12);
    }

    [Fact]
    public void Quartiles_FourValues_Interpolate()
    {
        var (lower, upper) = SampleStatistics.Quartiles([1, 2, 3, 4]);

        Assert.Equal(1.75, lower, 12);
        Assert.Equal(3.25, upper, 12);
    }

    [Fact]
    public void Quartiles_NoValues_AreNaN()
    {
        var (lower, upper) = SampleStatistics.Quartiles([]);

        Assert.True(double.IsNaN(lower));
        Assert.True(double.IsNaN(upper));
    }

    [Fact]
    public void QuartileRange_FormatsBothWithTwoDecimals()
    {
        Assert.Equal("1.75–3.25", SampleStatistics.QuartileRange([1, 2, 3, 4]));
    }
}
