using MoeDapr.Engine.Training;

namespace MoeDapr.Engine.Tests.Training;

public sealed class LearningRateScheduleTests
{
    [Fact]
    public void RateAt_WarmsUpLinearlyThenDecaysByCosineToTheFloor()
    {
        var schedule = new LearningRateSchedule(PeakRate: 1e-3, WarmupSteps: 10, MinRatio: 0.1);

        Assert.Equal(1e-4, schedule.RateAt(0, 0), 12);
        Assert.Equal(5e-4, schedule.RateAt(4, 0.01), 12);
        Assert.Equal(1e-3, schedule.RateAt(9, 0.02), 12);
        Assert.Equal(1e-3, schedule.RateAt(10, 0), 12);
        Assert.Equal(0.55e-3, schedule.RateAt(50, 0.5), 12); // halfway down the cosine
        Assert.Equal(1e-4, schedule.RateAt(100, 1), 12);
        var decay = Enumerable.Range(0, 11).Select(i => schedule.RateAt(20, i / 10.0)).ToArray();
        Assert.True(decay.Zip(decay.Skip(1)).All(p => p.Second < p.First));
    }
}
