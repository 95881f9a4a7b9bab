using MoeDapr.KvTransfer.Staging;

namespace MoeDapr.KvTransfer.Tests;

public sealed class RangeAllocatorTests
{
    [Fact]
    public void Free_InAnyOrder_CoalescesBackToOneRange()
    {
        var allocator = new RangeAllocator(16 * 4096, 4096);
        var ranges = new List<(long Offset, long Reserved)>();
        for (var i = 0; i < 8; i++)
        {
            Assert.True(allocator.TryAllocate(4096 + 1, out var offset, out var reserved));
            Assert.Equal(0, offset % 4096);
            ranges.Add((offset, reserved));
        }

        Assert.False(allocator.TryAllocate(1, out _, out _));
        foreach (var i in new[] { 3, 0, 7, 1, 5, 2, 6, 4 })
        {
            allocator.Free(ranges[i].Offset, ranges[i].Reserved);
        }

        Assert.Equal(0, allocator.BytesInUse);
        Assert.Equal(16 * 4096, allocator.LargestFree);
        Assert.True(allocator.TryAllocate(16 * 4096, out var all, out _));
        Assert.Equal(0, all);
    }

    [Fact]
    public void TryAllocate_FragmentedArena_FailsUntilNeighboursAreFreed()
    {
        var allocator = new RangeAllocator(4 * 4096, 4096);
        allocator.TryAllocate(4096, out var a, out _);
        allocator.TryAllocate(4096, out var b, out _);
        allocator.TryAllocate(4096, out var c, out _);
        allocator.TryAllocate(4096, out _, out _);
        allocator.Free(a, 4096);
        allocator.Free(c, 4096);

        Assert.False(allocator.TryAllocate(2 * 4096, out _, out _));
        allocator.Free(b, 4096);
        Assert.True(allocator.TryAllocate(3 * 4096, out var merged, out _));
        Assert.Equal(0, merged);
    }
}
