using static MoeDapr.KvTransfer.Tests.TestSupport;

namespace MoeDapr.KvTransfer.Tests;

public sealed class KvBlockStoreTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private static KvAllocateRequest Request(long bytes, KvBlockLayout? layout = null, string[]? hashes = null) =>
        new(bytes, layout, hashes, "test", "test-host");

    private static Guid Id(KvStoreResult<KvAllocateResponse> result) => Guid.ParseExact(result.Value!.Handle, "N");

    private static unsafe void Stage(KvBlockStore store, Guid handle, byte[] payload)
    {
        Assert.Equal(KvSocketStatus.Ok, store.BeginPush(handle, payload.Length, out var target));
        payload.AsSpan().CopyTo(new Span<byte>((void*)target.Address, payload.Length));
        Assert.Equal(KvSocketStatus.Ok, store.EndPush(handle, payload.Length, KvChecksum.Compute(payload), KvChecksum.Compute(payload), TimeSpan.Zero));
    }

    [Fact]
    public void Allocate_BeyondCapacity_IsRefusedAndUsageStaysBounded()
    {
        var store = NewStore(_time, capacity: 4L << 20);

        var first = store.Allocate(Request(3L << 20));
        var second = store.Allocate(Request(2L << 20));

        Assert.Null(first.Error);
        Assert.Equal(KvTransferErrorReason.Capacity, second.Error);
        Assert.Contains("no free staging range", second.Detail, StringComparison.Ordinal);
        Assert.True(store.BytesInUse <= store.Capacity);
        Assert.True(store.Release(Id(first)));
        Assert.Null(store.Allocate(Request(4L << 20)).Error);
    }

    [Fact]
    public void Allocate_BeyondMaxLeases_IsRefused()
    {
        var store = NewStore(_time, maxLeases: 2);

        store.Allocate(Request(10));
        store.Allocate(Request(10));

        Assert.Equal(KvTransferErrorReason.TooManyLeases, store.Allocate(Request(10)).Error);
    }

    [Fact]
    public async Task SweepExpired_AfterTtl_FreesAbandonedAllocationsAndCountsThem()
    {
        var store = NewStore(_time, ttl: TimeSpan.FromSeconds(10));
        var abandoned = store.Allocate(Request(1L << 20));
        var expiredBefore = await MetricAsync("moedapr_kv_transfer_lease_expired_total");

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(0, store.SweepExpired());
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, store.SweepExpired());

        Assert.Null(store.Locate(Id(abandoned), null));
        Assert.Equal(0, store.BytesInUse);
        Assert.Equal(0, store.LeasesActive);
        Assert.Equal(expiredBefore + 1, await MetricAsync("moedapr_kv_transfer_lease_expired_total"));
    }

    [Fact]
    public void Renew_BeforeExpiry_KeepsTheAllocation()
    {
        var store = NewStore(_time, ttl: TimeSpan.FromSeconds(10));
        var handle = Id(store.Allocate(Request(100)));

        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.NotNull(store.Renew(handle, null));
        _time.Advance(TimeSpan.FromSeconds(8));

        Assert.Equal(0, store.SweepExpired());
        Assert.NotNull(store.Locate(handle, null));
    }

    [Fact]
    public async Task Commit_ShortWrite_FailsAndIsNeverServed()
    {
        var store = NewStore(_time);
        var payload = Payload(SmallLayout);
        var handle = Id(store.Allocate(Request(payload.Length, SmallLayout)));
        Stage(store, handle, payload);
        var before = await MetricAsync("moedapr_kv_transfer_failures_total{reason=\"truncated\"}");

        var commit = store.Commit(handle, payload.Length - 1, KvChecksum.Compute(payload));

        Assert.Equal(KvTransferErrorReason.LengthMismatch, commit.Error);
        Assert.StartsWith("truncated", commit.Detail, StringComparison.Ordinal);
        Assert.Equal(KvAllocationState.Failed, store.Locate(handle, null)!.State);
        Assert.Equal(KvSocketStatus.WrongState, store.BeginPull(handle, out _, out _));
        Assert.Equal(before + 1, await MetricAsync("moedapr_kv_transfer_failures_total{reason=\"truncated\"}"));
    }

    [Fact]
    public void Commit_ChecksumOfOtherBytes_IsRejected()
    {
        var store = NewStore(_time);
        var payload = Payload(SmallLayout);
        var handle = Id(store.Allocate(Request(payload.Length, SmallLayout)));
        Stage(store, handle, payload);
        payload[100] ^= 1;

        var commit = store.Commit(handle, payload.Length, KvChecksum.Compute(payload));

        Assert.Equal(KvTransferErrorReason.ChecksumMismatch, commit.Error);
        Assert.StartsWith("checksum", commit.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Commit_HeaderNotMatchingLayout_IsRejected()
    {
        var store = NewStore(_time);
        var payload = Payload(SmallLayout with { Layers = 1 });
        var claimed = SmallLayout with { Layers = 1, Tokens = 9 }; // same byte size, different header
        Assert.Equal(payload.Length, claimed.ToHeader().PayloadBytes);
        var handle = Id(store.Allocate(Request(payload.Length, claimed)));
        Stage(store, handle, payload);

        var commit = store.Commit(handle, payload.Length, KvChecksum.Compute(payload));

        Assert.Equal(KvTransferErrorReason.HeaderMismatch, commit.Error);
        Assert.StartsWith("header", commit.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void LocatePrefix_AfterCommit_ReturnsTheLeadingRunAndForgetsItOnRelease()
    {
        var store = NewStore(_time);
        var payload = Payload(SmallLayout);
        var handle = Id(store.Allocate(Request(payload.Length, SmallLayout, [Hash(1), Hash(2)])));
        Stage(store, handle, payload);

        Assert.Equal(0, store.LocatePrefix([Hash(1)]).MatchedBlocks); // not committed yet
        Assert.Null(store.Commit(handle, payload.Length, KvChecksum.Compute(payload)).Error);
        var found = store.LocatePrefix([Hash(1), Hash(2), Hash(3)]);

        Assert.Equal(2, found.MatchedBlocks);
        Assert.Equal(1, found.Blocks[1].BlockIndex);
        Assert.Equal(KvPayloadHeader.Size + SmallLayout.ToHeader().BlockBytes, found.Blocks[1].Offset);
        Assert.Equal(0, store.LocatePrefix([Hash(2)]).Blocks.Count(b => b.BlockIndex == 0));
        Assert.Equal(0, store.LocatePrefix([Hash(9), Hash(1)]).MatchedBlocks);

        store.Release(handle);
        Assert.Equal(0, store.LocatePrefix([Hash(1)]).MatchedBlocks);
    }

    [Fact]
    public void Release_DuringPull_FreesTheRangeOnlyWhenThePullEnds()
    {
        var store = NewStore(_time);
        var payload = Payload(SmallLayout);
        var handle = Id(store.Allocate(Request(payload.Length, SmallLayout)));
        Stage(store, handle, payload);
        store.Commit(handle, payload.Length, KvChecksum.Compute(payload));
        Assert.Equal(KvSocketStatus.Ok, store.BeginPull(handle, out _, out _));

        Assert.True(store.Release(handle));
        Assert.Equal(4096, store.BytesInUse);

        store.EndPull(handle, payload.Length, TimeSpan.Zero);
        Assert.Equal(0, store.BytesInUse);
    }

    [Fact]
    public void Push_WrongLengthOrUnknownHandle_IsRefusedBeforeAnyByteMoves()
    {
        var store = NewStore(_time);
        var handle = Id(store.Allocate(Request(1000)));

        Assert.Equal(KvSocketStatus.LengthMismatch, store.BeginPush(handle, 999, out _));
        Assert.Equal(KvSocketStatus.UnknownHandle, store.BeginPush(Guid.NewGuid(), 1000, out _));
    }
}
