using MoeDapr.Engine.Kv;

namespace MoeDapr.Engine.Tests;

public sealed class BlockPoolTests
{
    [Fact]
    public void Allocate_PoolFull_EvictsLeastRecentlyReleasedCachedBlock()
    {
        var pool = new BlockPool(3);
        var a = pool.Allocate();
        var b = pool.Allocate();
        var c = pool.Allocate();
        pool.Register(a, 1);
        pool.Register(b, 2);
        pool.Release(b);
        pool.Release(a);

        var next = pool.Allocate();

        Assert.Equal(b, next);
        Assert.False(pool.Contains(2));
        Assert.True(pool.TryReuse(1, out var reused));
        Assert.Equal(a, reused);
        Assert.Equal(3, pool.Used);
        Assert.Equal(1, pool.RefCount(c));
    }

    [Fact]
    public void Release_UncachedBlock_ReturnsItToFreeList()
    {
        var pool = new BlockPool(2);
        var a = pool.Allocate();

        pool.Release(a);

        Assert.Equal(2, pool.Available);
        Assert.Throws<InvalidOperationException>(() => pool.Release(a));
    }
}
