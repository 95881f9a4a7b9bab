using System.Net;
using System.Net.Sockets;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane.Client;

namespace MoeDapr.KvTransfer.DataPlane.Tests.Client;

public sealed class KvSocketClientTests
{
    [Fact]
    public async Task PullAsync_StreamCutShortOrCorrupted_ThrowsWithAnIntegrityReason()
    {
        // A server that announces 1000 bytes and a checksum, then misbehaves.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var body = new byte[1000];
        new Random(9).NextBytes(body);

        async Task ServeOnceAsync(int bytesSent, bool corrupt)
        {
            using var connection = await listener.AcceptSocketAsync();
            var request = await KvSocketFrame.ReceiveAsync(connection, KvSocketFrame.RequestMagic, CancellationToken.None);
            await KvSocketFrame.SendAsync(connection, new KvSocketFrame((ushort)KvSocketStatus.Ok, request!.Value.Handle, body.Length, KvChecksum.Compute(body)), KvSocketFrame.ReplyMagic, CancellationToken.None);
            var sent = (byte[])body.Clone();
            if (corrupt)
            {
                sent[10] ^= 1;
            }

            await connection.SendAsync(sent.AsMemory(0, bytesSent));
            connection.Shutdown(SocketShutdown.Both);
        }

        using var destination = new KvNativeBuffer(body.Length);
        var shortServer = ServeOnceAsync(600, corrupt: false);
        var truncated = await Assert.ThrowsAsync<KvTransferException>(() => KvSocketClient.PullAsync("127.0.0.1", port, Guid.NewGuid(), destination.Address, destination.Length, CancellationToken.None));
        await shortServer;
        var corruptServer = ServeOnceAsync(body.Length, corrupt: true);
        var corrupted = await Assert.ThrowsAsync<KvTransferException>(() => KvSocketClient.PullAsync("127.0.0.1", port, Guid.NewGuid(), destination.Address, destination.Length, CancellationToken.None));
        await corruptServer;

        Assert.Equal(KvTransferErrorReason.LengthMismatch, truncated.Reason);
        Assert.Equal(KvTransferErrorReason.ChecksumMismatch, corrupted.Reason);
        Assert.True(truncated.IsIntegrityFailure && corrupted.IsIntegrityFailure);
        Assert.Contains("truncated", truncated.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", corrupted.Message, StringComparison.Ordinal);
    }
}
