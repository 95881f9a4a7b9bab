using MoeDapr.Engine.Kernels;

namespace MoeDapr.Engine.Tests.Kernels;

public sealed class ReadBandwidthTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 1)]
    [InlineData(1000, 3)]
    [InlineData(4099, 2)]
    public void SumParallel_AnyLengthAndThreads_ReadsEveryElementOnce(int length, int threads)
    {
        // Integers keep float sums exact, so a skipped or twice-read element shows.
        var values = Enumerable.Range(0, length).Select(i => (float)(i % 7)).ToArray();

        Assert.Equal(values.Sum(), ReadBandwidth.SumParallel(values, threads));
    }

    [Fact]
    public void MeasureGbPerSecond_SmallBuffer_IsPositiveAndFinite()
    {
        var gbPerSecond = ReadBandwidth.MeasureGbPerSecond(threads: 2, bytes: 1 << 20, runs: 1);

        Assert.True(double.IsFinite(gbPerSecond) && gbPerSecond > 0, $"{gbPerSecond}");
    }

    [Fact]
    public void MeasureGbPerSecond_NoThreads_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidth.MeasureGbPerSecond(threads: 0, bytes: 1 << 20));
}
