using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane.Client;
using MoeDapr.KvTransfer.DataPlane.Server;

namespace MoeDapr.KvTransfer.DataPlane.Tests.Server;

/// <summary>The socket server and client against a store stand-in: the protocol and the reasons its replies turn into.</summary>
public sealed class KvSocketServerTests : IAsyncLifetime
{
    private const int PayloadBytes = (3 << 20) + 123; // several I/O chunks and a ragged tail

    private readonly FakeSocketStore _store = new(PayloadBytes);
    private readonly byte[] _payload = new byte[PayloadBytes];
    private KvSocketServer? _server;

    private int Port => _server!.LocalEndPoint.Port;

    public Task InitializeAsync()
    {
        new Random(17).NextBytes(_payload);
        _server = Started(_store, maxConnections: 8);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _server!.DisposeAsync();
        _store.Dispose();
    }

    [Fact]
    public async Task PushThenPull_GivesBackTheSameBytesAndChecksum()
    {
        using var source = Native(_payload);
        using var destination = new KvNativeBuffer(PayloadBytes);

        await KvSocketClient.PushAsync("127.0.0.1", Port, _store.Handle, source.Address, PayloadBytes, KvChecksum.Compute(_payload), CancellationToken.None);
        var (length, checksum) = await KvSocketClient.PullAsync("127.0.0.1", Port, _store.Handle, destination.Address, destination.Length, CancellationToken.None);

        Assert.True(_store.Committed);
        Assert.Equal(PayloadBytes, length);
        Assert.Equal(KvChecksum.Compute(_payload), checksum);
        Assert.Equal(_payload, Bytes(destination, PayloadBytes));
    }

    [Fact]
    public async Task Refusals_EachReplyStatus_BecomesItsReason()
    {
        using var source = Native(_payload);
        using var destination = new KvNativeBuffer(PayloadBytes);
        var checksum = KvChecksum.Compute(_payload);
        Task Push(Guid handle, long length, ulong sum) => KvSocketClient.PushAsync("127.0.0.1", Port, handle, source.Address, length, sum, CancellationToken.None);
        Task Pull(Guid handle) => KvSocketClient.PullAsync("127.0.0.1", Port, handle, destination.Address, destination.Length, CancellationToken.None);

        var unknown = await Assert.ThrowsAsync<KvTransferException>(() => Pull(Guid.NewGuid()));
        var notCommitted = await Assert.ThrowsAsync<KvTransferException>(() => Pull(_store.Handle));
        var wrongLength = await Assert.ThrowsAsync<KvTransferException>(() => Push(_store.Handle, PayloadBytes - 1, checksum));
        var wrongChecksum = await Assert.ThrowsAsync<KvTransferException>(() => Push(_store.Handle, PayloadBytes, checksum ^ 1));
        await Push(_store.Handle, PayloadBytes, checksum);
        var pushedTwice = await Assert.ThrowsAsync<KvTransferException>(() => Push(_store.Handle, PayloadBytes, checksum));

        Assert.Equal(KvTransferErrorReason.NotFound, unknown.Reason);
        Assert.Equal(KvTransferErrorReason.NotCommitted, notCommitted.Reason);
        Assert.Equal(KvTransferErrorReason.LengthMismatch, wrongLength.Reason);
        Assert.Equal(KvTransferErrorReason.ChecksumMismatch, wrongChecksum.Reason);
        Assert.Equal(KvTransferErrorReason.WrongState, pushedTwice.Reason);
    }

    [Fact]
    public async Task Pull_WhileAnotherConnectionHoldsTheOnlySlot_IsBusy()
    {
        await using var server = Started(_store, maxConnections: 1);
        var port = server.LocalEndPoint.Port;
        using var destination = new KvNativeBuffer(PayloadBytes);
        using var holder = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await holder.ConnectAsync(IPAddress.Loopback, port); // accepted first, it holds the slot while the server waits for its request

        var busy = await Assert.ThrowsAsync<KvTransferException>(() =>
            KvSocketClient.PullAsync("127.0.0.1", port, _store.Handle, destination.Address, destination.Length, CancellationToken.None));

        Assert.Equal(KvTransferErrorReason.Busy, busy.Reason);
    }

    private static KvSocketServer Started(IKvSocketStore store, int maxConnections)
    {
        var server = new KvSocketServer(store, new IPEndPoint(IPAddress.Loopback, 0), maxConnections, ioTimeout: TimeSpan.FromSeconds(30));
        server.Start();
        return server;
    }

    private static KvNativeBuffer Native(byte[] bytes)
    {
        var buffer = new KvNativeBuffer(bytes.Length);
        Marshal.Copy(bytes, 0, buffer.Address, bytes.Length);
        return buffer;
    }

    private static byte[] Bytes(KvNativeBuffer buffer, int length)
    {
        var bytes = new byte[length];
        Marshal.Copy(buffer.Address, bytes, 0, length);
        return bytes;
    }
}
