using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using static Microsoft.Extensions.Options.Options;

namespace MoeDapr.Router.Tests.Policies;

public sealed class BatchSizePolicyTests
{
    private static readonly BatchingOptions Settings = new() { InitialBatchSize = 8, MinBatchSize = 2, MaxBatchSize = 32, AdaptInterval = TimeSpan.FromSeconds(1) };

    [Fact]
    public void NextBatchSize_LongQueueAndBusyWorkers_DoublesUpToMax()
    {
        var time = new ManualTimeProvider();
        var policy = new AdaptiveBatchSizePolicy(Create(Settings), time);
        var busy = new BatchSignal(QueuedRequests: 150, Utilization: 0.9);

        var sizes = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            sizes.Add(policy.NextBatchSize(busy));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([16, 32, 32, 32], sizes);
    }

    [Fact]
    public void NextBatchSize_ShortQueueAndIdleWorkers_HalvesDownToMin()
    {
        var time = new ManualTimeProvider();
        var policy = new AdaptiveBatchSizePolicy(Create(Settings), time);
        var idle = new BatchSignal(QueuedRequests: 3, Utilization: 0.2);

        var sizes = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            sizes.Add(policy.NextBatchSize(idle));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal([4, 2, 2, 2], sizes);
    }

    [Fact]
    public void NextBatchSize_WithinAdaptInterval_HoldsTheLastChange()
    {
        var time = new ManualTimeProvider();
        var policy = new AdaptiveBatchSizePolicy(Create(Settings), time);
        var busy = new BatchSignal(150, 0.9);

        Assert.Equal(16, policy.NextBatchSize(busy));
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(16, policy.NextBatchSize(busy));
        time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(32, policy.NextBatchSize(busy));
    }

    [Theory]
    [InlineData(150, 0.5)] // long queue but workers not busy: they are not the bottleneck
    [InlineData(50, 0.9)] // busy but queue moderate
    [InlineData(5, 0.7)] // short queue but workers not idle
    public void NextBatchSize_MixedSignals_KeepsSize(int queued, double utilization)
    {
        var policy = new AdaptiveBatchSizePolicy(Create(Settings), new ManualTimeProvider());

        Assert.Equal(8, policy.NextBatchSize(new BatchSignal(queued, utilization)));
    }

    [Fact]
    public void NextBatchSize_FixedPolicy_IgnoresLoad()
    {
        var policy = new FixedBatchSizePolicy(Create(Settings));

        Assert.Equal(8, policy.NextBatchSize(new BatchSignal(1000, 1.0)));
        Assert.Equal(8, policy.NextBatchSize(new BatchSignal(0, 0.0)));
    }
}
