using System.Net.Sockets;
using System.Runtime.InteropServices;
using static MoeDapr.KvTransfer.Tests.TestSupport;

namespace MoeDapr.KvTransfer.Tests;

public sealed class DataPlaneTests : IDisposable
{
    private readonly KvTransferFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    /// <summary>What every refusal of corrupted bytes must be: a checksum failure that marks the bytes unusable.</summary>
    private static void AssertChecksumMismatch(KvTransferException error)
    {
        Assert.Equal(KvTransferErrorReason.ChecksumMismatch, error.Reason);
        Assert.True(error.IsIntegrityFailure);
    }

    private static byte[] ReadAll(KvReader reader)
    {
        var copy = new byte[reader.Length];
        unsafe
        {
            fixed (byte* destination = copy)
            {
                reader.CopyTo((nint)destination, copy.Length);
            }
        }

        return copy;
    }

    [Fact]
    public async Task SharedMemory_WriteCommitRead_GivesTheSameBytesThroughTwoMappingsOfTheFile()
    {
        using var producer = _factory.NewClient();
        using var consumer = _factory.NewClient();
        var layout = LayoutOfMiB(4);
        var payload = Payload(layout, seed: 3);

        await using var writer = await producer.AllocateAsync(layout, null, CancellationToken.None);
        Assert.Equal(KvDataPlane.SharedMemory, writer.Plane);
        Assert.StartsWith(_factory.SharedMemoryDirectory, writer.Allocation.Endpoint.SharedMemoryPath, StringComparison.Ordinal);
        Assert.Equal(0, writer.Allocation.Endpoint.SharedMemoryOffset % 4096);
        writer.Write(payload);
        await writer.CommitAsync(CancellationToken.None);

        await using var reader = await consumer.OpenReadAsync(writer.Handle, CancellationToken.None);
        Assert.Equal(KvDataPlane.SharedMemory, reader.Plane);
        Assert.Equal(layout.ToHeader(), reader.Header);
        Assert.Equal(payload, ReadAll(reader));
        Assert.True(await reader.ReleaseAsync(CancellationToken.None));
        Assert.Null(await consumer.Control.LocateAsync(writer.Handle, null, CancellationToken.None));
    }

    [Fact]
    public async Task SharedMemory_ExportThroughRawPointer_IsHashedAtCommit()
    {
        using var client = _factory.NewClient();
        var payload = Payload(SmallLayout);

        await using var writer = await client.AllocateAsync(SmallLayout, null, CancellationToken.None);
        Marshal.Copy(payload, 0, writer.Address, payload.Length);
        await writer.CommitAsync(CancellationToken.None);

        await using var reader = await client.OpenReadAsync(writer.Handle, CancellationToken.None);
        Assert.Equal(payload, reader.GetSpan(0, payload.Length).ToArray());
    }

    [Fact]
    public async Task SharedMemory_BytesChangedBeforeCommitByDefault_EveryReaderRefusesThePayload()
    {
        using var client = _factory.NewClient();
        var payload = Payload(SmallLayout);
        await using var writer = await client.AllocateAsync(SmallLayout, null, CancellationToken.None);
        writer.Write(payload);
        using (var other = KvSharedMemoryFile.Open(writer.Allocation.Endpoint.SharedMemoryPath!))
        {
            unsafe
            {
                other.At(writer.Allocation.Endpoint.SharedMemoryOffset, payload.Length)[500] ^= 0xFF;
            }
        }

        await writer.CommitAsync(CancellationToken.None);

        // kv-transfer does not re-hash (readers do, in the pass that copies): the verifying open, the unverified
        // open's copy and the socket pull all refuse the bytes.
        AssertChecksumMismatch(await Assert.ThrowsAsync<KvTransferException>(() => client.OpenReadAsync(writer.Handle, CancellationToken.None)));
        await using (var unverified = await client.OpenReadAsync(writer.Handle, CancellationToken.None, verify: false))
        {
            AssertChecksumMismatch(Assert.Throws<KvTransferException>(() => ReadAll(unverified)));
        }

        using var remote = _factory.NewClient(sharedMemory: false);
        AssertChecksumMismatch(await Assert.ThrowsAsync<KvTransferException>(() => remote.OpenReadAsync(writer.Handle, CancellationToken.None)));
    }

    [Fact]
    public async Task SharedMemory_BytesChangedBeforeCommitWithCommitVerification_CommitIsRejectedAndPayloadNeverServed()
    {
        using var factory = new KvTransferFactory(verifySharedMemoryCommits: true);
        using var client = factory.NewClient();
        var payload = Payload(SmallLayout);
        await using var writer = await client.AllocateAsync(SmallLayout, null, CancellationToken.None);
        writer.Write(payload);
        var before = await MetricAsync("moedapr_kv_transfer_failures_total{reason=\"checksum\"}");

        // Another process scribbles on the staged bytes: seen through an independent mapping of the file.
        using (var other = KvSharedMemoryFile.Open(writer.Allocation.Endpoint.SharedMemoryPath!))
        {
            unsafe
            {
                other.At(writer.Allocation.Endpoint.SharedMemoryOffset, payload.Length)[500] ^= 0xFF;
            }
        }

        var error = await Assert.ThrowsAsync<KvTransferException>(() => writer.CommitAsync(CancellationToken.None));
        Assert.Equal((HttpStatusCode)422, error.StatusCode);
        Assert.Equal(KvTransferErrorReason.ChecksumMismatch, error.Reason);
        Assert.Equal(before + 1, await MetricAsync("moedapr_kv_transfer_failures_total{reason=\"checksum\"}"));
        var read = await Assert.ThrowsAsync<KvTransferException>(() => client.OpenReadAsync(writer.Handle, CancellationToken.None));
        Assert.Equal(KvTransferErrorReason.NotCommitted, read.Reason);
    }

    [Fact]
    public async Task SharedMemory_BytesChangedAfterCommit_ReaderDetectsIt()
    {
        using var client = _factory.NewClient();
        var payload = Payload(SmallLayout);
        await using var writer = await client.AllocateAsync(SmallLayout, null, CancellationToken.None);
        writer.Write(payload);
        await writer.CommitAsync(CancellationToken.None);
        writer.GetSpan(1000, 1)[0] ^= 0xFF;

        AssertChecksumMismatch(await Assert.ThrowsAsync<KvTransferException>(() => client.OpenReadAsync(writer.Handle, CancellationToken.None)));
        await using var unverified = await client.OpenReadAsync(writer.Handle, CancellationToken.None, verify: false);
        AssertChecksumMismatch(Assert.Throws<KvTransferException>(() => ReadAll(unverified)));
    }

    [Fact]
    public async Task Socket_PushCommitPull_GivesTheSameBytesAndCountsThem()
    {
        using var producer = _factory.NewClient(sharedMemory: false);
        using var consumer = _factory.NewClient(sharedMemory: false);
        var layout = LayoutOfMiB(4);
        var payload = Payload(layout, seed: 5);
        var pushedBefore = await MetricAsync("moedapr_kv_transfer_bytes_total{plane=\"socket\",direction=\"in\"}");

        await using var writer = await producer.AllocateAsync(layout, null, CancellationToken.None);
        Assert.Equal(KvDataPlane.Socket, writer.Plane);
        writer.Write(payload);
        await writer.CommitAsync(CancellationToken.None);
        await using var reader = await consumer.OpenReadAsync(writer.Handle, CancellationToken.None);

        Assert.Equal(KvDataPlane.Socket, reader.Plane);
        Assert.Equal(payload, ReadAll(reader));
        Assert.Equal(pushedBefore + payload.Length, await MetricAsync("moedapr_kv_transfer_bytes_total{plane=\"socket\",direction=\"in\"}"));
    }

    [Fact]
    public async Task Socket_PushWithWrongChecksum_IsRejectedAndTheAllocationFails()
    {
        using var client = _factory.NewClient(sharedMemory: false);
        var payload = Payload(SmallLayout);
        var allocation = await client.Control.AllocateAsync(new KvAllocateRequest(payload.Length, SmallLayout, null, "t", PreferredPlane: KvDataPlane.Socket), CancellationToken.None);
        var endpoint = allocation.Endpoint;
        using var buffer = new KvNativeBuffer(payload.Length);
        Marshal.Copy(payload, 0, buffer.Address, payload.Length);

        var push = await Assert.ThrowsAsync<KvTransferException>(() => KvSocketClient.PushAsync(
            endpoint.SocketHost, endpoint.SocketPort, Guid.ParseExact(allocation.Handle, "N"), buffer.Address, payload.Length, KvChecksum.Compute(payload) ^ 1, CancellationToken.None));
        AssertChecksumMismatch(push);

        Assert.Equal(KvAllocationState.Failed, (await client.Control.LocateAsync(allocation.Handle, null, CancellationToken.None))!.State);
        var commit = await Assert.ThrowsAsync<KvTransferException>(() => client.Control.CommitAsync(allocation.Handle, new KvCommitRequest(payload.Length, KvChecksum.ToHex(KvChecksum.Compute(payload))), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Conflict, commit.StatusCode);
        Assert.Equal(KvTransferErrorReason.WrongState, commit.Reason);
    }

    [Fact]
    public async Task Socket_SenderVanishesMidPush_TransferIsMarkedTruncated()
    {
        using var client = _factory.NewClient(sharedMemory: false);
        var payload = Payload(LayoutOfMiB(1));
        var allocation = await client.Control.AllocateAsync(new KvAllocateRequest(payload.Length, null, null, "t", PreferredPlane: KvDataPlane.Socket), CancellationToken.None);
        var before = await MetricAsync("moedapr_kv_transfer_failures_total{reason=\"truncated\"}");

        using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(allocation.Endpoint.SocketHost, allocation.Endpoint.SocketPort);
            await KvSocketFrame.SendAsync(socket, new KvSocketFrame((ushort)KvSocketOp.Push, Guid.ParseExact(allocation.Handle, "N"), payload.Length, KvChecksum.Compute(payload)), KvSocketFrame.RequestMagic, CancellationToken.None);
            var ready = await KvSocketFrame.ReceiveAsync(socket, KvSocketFrame.ReplyMagic, CancellationToken.None);
            Assert.Equal(KvSocketStatus.Ok, ready!.Value.Status);
            await socket.SendAsync(payload.AsMemory(0, payload.Length / 2));
        }

        Assert.True(await Poll.EventuallyAsync(async () =>
            (await client.Control.LocateAsync(allocation.Handle, null, CancellationToken.None))!.State == KvAllocationState.Failed));
        Assert.Equal(before + 1, await MetricAsync("moedapr_kv_transfer_failures_total{reason=\"truncated\"}"));
    }

    [Fact]
    public async Task SharedMemoryProducer_SocketConsumer_ReadTheSameCommittedBytes()
    {
        using var sameHost = _factory.NewClient();
        using var otherHost = _factory.NewClient(sharedMemory: false);
        var payload = Payload(SmallLayout, seed: 11);
        await using var writer = await sameHost.AllocateAsync(SmallLayout, [Hash(1), Hash(2)], CancellationToken.None);
        writer.Write(payload);
        await writer.CommitAsync(CancellationToken.None);

        var prefix = await otherHost.LocatePrefixAsync([Hash(1), Hash(2)], CancellationToken.None);
        await using var reader = await otherHost.OpenReadAsync(prefix.Blocks[1].Handle, CancellationToken.None);

        Assert.Equal(2, prefix.MatchedBlocks);
        Assert.Equal(KvDataPlane.Socket, reader.Plane);
        Assert.Equal(payload.AsSpan((int)prefix.Blocks[1].Offset, (int)prefix.Blocks[1].Length).ToArray(), reader.GetSpan(prefix.Blocks[1].Offset, (int)prefix.Blocks[1].Length).ToArray());
    }

    [Fact]
    public async Task ConcurrentRoundTrips_BothPlanes_AllBytesArriveAndStagingIsFreedAfterRelease()
    {
        using var sameHost = _factory.NewClient();
        using var otherHost = _factory.NewClient(sharedMemory: false);
        var layout = SmallLayout with { Tokens = 64 };

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            var client = i % 2 == 0 ? sameHost : otherHost;
            var payload = Payload(layout, seed: 100 + i);
            await using var writer = await client.AllocateAsync(layout, null, CancellationToken.None);
            writer.Write(payload);
            await writer.CommitAsync(CancellationToken.None);
            await using var reader = await (i % 3 == 0 ? otherHost : sameHost).OpenReadAsync(writer.Handle, CancellationToken.None);
            var same = reader.GetSpan(0, payload.Length).SequenceEqual(payload);
            await reader.ReleaseAsync(CancellationToken.None);
            return same;
        }));

        Assert.All(results, Assert.True);
        Assert.Equal(0, await MetricAsync("moedapr_kv_transfer_staging_bytes_in_use"));
        Assert.Equal(0, await MetricAsync("moedapr_kv_transfer_leases_active"));
    }
}
