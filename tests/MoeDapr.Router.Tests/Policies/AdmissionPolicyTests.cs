using MoeDapr.Router.Options;
using MoeDapr.Router.Policies;
using MoeDapr.Router.Scheduling;
using static Microsoft.Extensions.Options.Options;

namespace MoeDapr.Router.Tests.Policies;

public sealed class AdmissionPolicyTests
{
    private static readonly AdmissionOptions Bounds = new() { MaxQueuedRequests = 4, MaxQueuedPromptTokens = 1000, LowPriorityMaxFill = 0.5 };

    private static readonly AdmissionOptions SloBounds = new() { MaxQueuedRequests = 100, TargetQueueDelay = TimeSpan.FromMilliseconds(500) };

    private static QueueSnapshot Queue(int high = 0, int normal = 0, int low = 0, long tokensEach = 10, double drain = 0, double? service = null) => new()
    {
        Count = [high, normal, low],
        Tokens = [high * tokensEach, normal * tokensEach, low * tokensEach],
        DrainPerSecond = drain,
        ServicePerSecond = service,
    };

    [Theory]
    [InlineData("priority")]
    [InlineData("fifo")]
    public void Decide_EstimatedWaitAboveTarget_RefusedAsQueueDelay(string policyName)
    {
        IAdmissionPolicy policy = policyName == "fifo" ? new FifoAdmissionPolicy(Create(SloBounds)) : new PriorityAdmissionPolicy(Create(SloBounds));

        // (10 ahead + itself) / 10 per s = 1.1 s > 0.5 s, far below the count bound of 100.
        var decision = policy.Decide(RequestPriority.Normal, 10, Queue(normal: 10, service: 10));

        Assert.False(decision.Admitted);
        Assert.Equal("queue_delay", decision.Reason);
        Assert.Equal(TimeSpan.FromSeconds(2), decision.RetryAfter); // 11 / 10 per s, rounded up
    }

    [Fact]
    public void Decide_EstimatedWaitWithinTarget_Admits()
    {
        var policy = new PriorityAdmissionPolicy(Create(SloBounds));

        Assert.True(policy.Decide(RequestPriority.Normal, 10, Queue(normal: 3, service: 10)).Admitted); // 0.4 s
    }

    [Fact]
    public void Decide_HighPriorityBehindALongNormalQueue_AdmittedSinceOnlyHighIsServedFirst()
    {
        var policy = new PriorityAdmissionPolicy(Create(SloBounds));
        var queue = Queue(high: 1, normal: 40, service: 10);

        Assert.Equal("queue_delay", policy.Decide(RequestPriority.Normal, 10, queue).Reason);
        Assert.True(policy.Decide(RequestPriority.High, 10, queue).Admitted);
    }

    [Fact]
    public void Decide_FifoCountsEveryWaiterAhead_WhateverItsPriority()
    {
        var policy = new FifoAdmissionPolicy(Create(SloBounds));

        Assert.Equal("queue_delay", policy.Decide(RequestPriority.High, 10, Queue(low: 10, service: 10)).Reason);
    }

    [Fact]
    public void Decide_ServiceRateNotKnownYet_OnlyTheBoundsApply()
    {
        var policy = new PriorityAdmissionPolicy(Create(SloBounds));

        Assert.True(policy.Decide(RequestPriority.Normal, 10, Queue(normal: 50, service: null)).Admitted);
    }

    [Fact]
    public void Decide_NothingDrains_RefusesBehindAnyWaiterButNotIntoAnEmptyQueue()
    {
        var policy = new PriorityAdmissionPolicy(Create(SloBounds));

        Assert.Equal("queue_delay", policy.Decide(RequestPriority.Normal, 10, Queue(normal: 1, service: 0)).Reason);
        Assert.True(policy.Decide(RequestPriority.Normal, 10, Queue(service: 0)).Admitted);
    }

    [Fact]
    public void Decide_TargetQueueDelayZero_EstimateIsOff()
    {
        var policy = new PriorityAdmissionPolicy(Create(new AdmissionOptions { MaxQueuedRequests = 100, TargetQueueDelay = TimeSpan.Zero }));

        Assert.True(policy.Decide(RequestPriority.Normal, 10, Queue(normal: 50, service: 1)).Admitted);
    }

    [Fact]
    public void PerSecond_BackloggedPeriods_DispatchesOverBackloggedTimeOnly()
    {
        var time = new ManualTimeProvider();
        var meter = new ServiceRateMeter(time);
        Assert.Null(meter.PerSecond());

        // Idle stretches are never recorded, so they do not dilute the rate the way the plain dispatch rate is diluted.
        for (var i = 0; i < 4; i++)
        {
            meter.Record(TimeSpan.FromMilliseconds(250), 5);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(20.0, meter.PerSecond()!.Value, 6);
    }

    [Fact]
    public void PerSecond_TooLittleBacklogSeen_Unknown()
    {
        var meter = new ServiceRateMeter(new ManualTimeProvider());

        meter.Record(TimeSpan.FromMilliseconds(100), 3);

        Assert.Null(meter.PerSecond());
    }

    [Fact]
    public void PerSecond_SamplesOlderThanTheWindow_Forgotten()
    {
        var time = new ManualTimeProvider();
        var meter = new ServiceRateMeter(time);
        meter.Record(TimeSpan.FromSeconds(1), 50);
        Assert.Equal(50.0, meter.PerSecond()!.Value, 6);

        time.Advance(ServiceRateMeter.Window + ServiceRateMeter.BucketLength);
        meter.Record(TimeSpan.FromSeconds(1), 10);

        Assert.Equal(10.0, meter.PerSecond()!.Value, 6);
    }

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
