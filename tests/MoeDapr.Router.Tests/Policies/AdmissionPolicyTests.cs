using MoeDapr.Contracts;
using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Tests.Infrastructure;
using static Microsoft.Extensions.Options.Options;

namespace MoeDapr.Router.Tests.Policies;

public sealed class AdmissionPolicyTests
{
    private static readonly AdmissionOptions Bounds = new() { MaxQueuedRequests = 4, MaxQueuedPromptTokens = 1000, LowPriorityMaxFill = 0.5 };

    private static QueueSnapshot Queue(int high = 0, int normal = 0, int low = 0, long tokensEach = 10, double drain = 0) => new()
    {
        Count = [high, normal, low],
        Tokens = [high * tokensEach, normal * tokensEach, low * tokensEach],
        DrainPerSecond = drain,
    };

    [Fact]
    public void Decide_QueueBelowBounds_Admits()
    {
        var policy = new PriorityAdmissionPolicy(Create(Bounds));

        Assert.True(policy.Decide(RequestPriority.Normal, 10, Queue(normal: 3)).Admitted);
    }

    [Fact]
    public void Decide_CountBoundReached_RejectsAsQueueFull()
    {
        var policy = new FifoAdmissionPolicy(Create(Bounds));

        var decision = policy.Decide(RequestPriority.High, 10, Queue(normal: 4));

        Assert.False(decision.Admitted);
        Assert.Equal("queue_full", decision.Reason);
    }

    [Fact]
    public void Decide_TokenBoundWouldBeExceeded_RejectsAsTokensFull()
    {
        var policy = new FifoAdmissionPolicy(Create(Bounds));

        var decision = policy.Decide(RequestPriority.Normal, 500, Queue(normal: 1, tokensEach: 600));

        Assert.False(decision.Admitted);
        Assert.Equal("queue_tokens_full", decision.Reason);
    }

    [Fact]
    public void Decide_LowPriorityPastItsShare_ShedFirstWhileNormalStillFits()
    {
        var policy = new PriorityAdmissionPolicy(Create(Bounds));
        var queue = Queue(normal: 2);

        Assert.Equal("low_priority_shed", policy.Decide(RequestPriority.Low, 10, queue).Reason);
        Assert.True(policy.Decide(RequestPriority.Normal, 10, queue).Admitted);
    }

    [Fact]
    public void Decide_FullQueueWithLowerPriorityWaiting_AdmitsHighByShedding()
    {
        var policy = new PriorityAdmissionPolicy(Create(Bounds));

        var decision = policy.Decide(RequestPriority.High, 10, Queue(normal: 2, low: 2));

        Assert.True(decision.Admitted);
        Assert.Equal(3, decision.ShedToCount);
    }

    [Fact]
    public void Decide_FullQueueOfSamePriority_RejectsInsteadOfShedding()
    {
        var policy = new PriorityAdmissionPolicy(Create(Bounds));

        Assert.False(policy.Decide(RequestPriority.Normal, 10, Queue(normal: 4)).Admitted);
    }

    [Theory]
    [InlineData(4.0, 2)] // (4 waiting + 1) / 4 per s → 1.25 s → 2 s
    [InlineData(0.5, 10)] // 5 / 0.5 → 10 s
    [InlineData(0.01, 60)] // clamped to MaxRetryAfterSeconds
    [InlineData(0.0, 60)] // nothing drains: the longest hint
    public void Decide_Rejected_RetryAfterFollowsDrainRate(double drainPerSecond, int expectedSeconds)
    {
        var policy = new FifoAdmissionPolicy(Create(Bounds));

        var decision = policy.Decide(RequestPriority.Normal, 10, Queue(normal: 4, drain: drainPerSecond));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), decision.RetryAfter);
    }

    [Fact]
    public void PerSecond_DispatchesInVirtualTime_AveragesOverTheWindow()
    {
        var time = new ManualTimeProvider();
        var meter = new DrainRateMeter(time);
        for (var s = 0; s < 10; s++)
        {
            meter.Record(5);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        // One-second buckets: the estimate is within one bucket of the true 5 per second.
        Assert.InRange(meter.PerSecond(), 4.5, 5.5);

        time.Advance(TimeSpan.FromSeconds(DrainRateMeter.WindowSeconds + 1));
        Assert.Equal(0.0, meter.PerSecond());
    }
}
