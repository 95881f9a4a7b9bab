using MoeDapr.Engine.Kv;

namespace MoeDapr.Engine.Tests.Kv;

public sealed class KvHandleTableTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    [Fact]
    public void Take_HeldHandle_HandsOverItsBlocksOnce()
    {
        var (pool, _, table) = Create();
        var handle = table.Hold([1, 2, 3], [pool.Allocate()], []);

        var held = table.Take(handle);

        Assert.Equal([1, 2, 3], held.Tokens);
        Assert.Equal(3, handle.Tokens);
        Assert.Equal(0, table.Count);
        Assert.Equal(1, pool.Used); // the taker owns the reference now
        Assert.Contains("already used", Assert.Throws<ArgumentException>(() => table.Take(handle)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_HeldHandle_FreesItsBlocksAndLaterGetsFail()
    {
        var (pool, _, table) = Create();
        var handle = table.Hold([1, 2], [pool.Allocate(), pool.Allocate()], []);

        Assert.True(table.Release(handle));

        Assert.Equal(0, pool.Used);
        Assert.False(table.Release(handle));
        Assert.Throws<ArgumentException>(() => table.Get(handle));
    }

    [Fact]
    public void ReleaseExpired_LeaseEnded_FreesOnlyTheExpiredHandles()
    {
        var (pool, clock, table) = Create();
        var early = table.Hold([1], [pool.Allocate()], []);
        clock.Advance(TimeSpan.FromSeconds(20));
        var late = table.Hold([2], [pool.Allocate()], []);

        clock.Advance(TimeSpan.FromSeconds(15));

        Assert.Equal(1, table.ReleaseExpired());
        Assert.Throws<ArgumentException>(() => table.Get(early));
        Assert.Equal([2], table.Get(late).Tokens);
        Assert.Equal(1, pool.Used);
    }

    private static (BlockPool Pool, ManualClock Clock, KvHandleTable Table) Create()
    {
        var pool = new BlockPool(8);
        var clock = new ManualClock();
        return (pool, clock, new KvHandleTable(pool, clock, Lease));
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
