using MoeDapr.Router.Scheduling;

namespace MoeDapr.Router.Tests.Scheduling;

public sealed class RequestQueueTests
{
    private static GenerationJob Job(string id, RequestPriority priority, int tokens) =>
        new(id, Enumerable.Range(0, tokens).ToArray(), new SamplingParams(), priority, [], 0);

    [Fact]
    public void DequeueBatch_MixedPriorities_HighFirstThenOldest()
    {
        var queue = new RequestQueue();
        queue.Add(Job("n1", RequestPriority.Normal, 10));
        queue.Add(Job("l1", RequestPriority.Low, 10));
        queue.Add(Job("h1", RequestPriority.High, 10));
        queue.Add(Job("n2", RequestPriority.Normal, 10));

        var batch = queue.DequeueBatch(10, 1000, preferShort: false);

        Assert.Equal(["h1", "n1", "n2", "l1"], batch.Select(j => j.RequestId));
        Assert.Equal(0, queue.Count);
        Assert.Equal(0, queue.Tokens);
    }

    [Fact]
    public void DequeueBatch_TokenBudget_StopsBeforeExceedingButAlwaysTakesOne()
    {
        var queue = new RequestQueue();
        queue.Add(Job("big", RequestPriority.Normal, 300));
        queue.Add(Job("small", RequestPriority.Normal, 10));

        Assert.Equal(["big"], queue.DequeueBatch(8, 100, preferShort: false).Select(j => j.RequestId));
        Assert.Equal(["small"], queue.DequeueBatch(8, 100, preferShort: false).Select(j => j.RequestId));
    }

    [Fact]
    public void Peek_PreferShort_PicksShortestWithinHighestPriority()
    {
        var queue = new RequestQueue();
        queue.Add(Job("long", RequestPriority.Normal, 400));
        queue.Add(Job("short", RequestPriority.Normal, 5));
        queue.Add(Job("low-short", RequestPriority.Low, 1));

        Assert.Equal("long", queue.Peek(preferShort: false)!.RequestId);
        Assert.Equal("short", queue.Peek(preferShort: true)!.RequestId);
    }

    [Fact]
    public void Shed_FullQueue_DropsNewestLowestPriorityFirst()
    {
        var queue = new RequestQueue();
        queue.Add(Job("n1", RequestPriority.Normal, 10));
        queue.Add(Job("l1", RequestPriority.Low, 10));
        queue.Add(Job("l2", RequestPriority.Low, 10));

        var shed = queue.Shed(RequestPriority.High, toCount: 2, toTokens: long.MaxValue);

        Assert.Equal(["l2"], shed.Select(j => j.RequestId));
        Assert.Equal(2, queue.Count);
    }

    [Fact]
    public void Remove_AbandonedJob_LeavesTotalsConsistent()
    {
        var queue = new RequestQueue();
        var job = Job("a", RequestPriority.Normal, 10);
        queue.Add(job);

        Assert.True(queue.Remove(job));
        Assert.False(queue.Remove(job));
        Assert.Equal(0, queue.Count);
        Assert.Null(queue.Peek(preferShort: false));
    }
}
