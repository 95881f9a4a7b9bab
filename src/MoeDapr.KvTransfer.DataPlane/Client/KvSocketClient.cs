using System.IO.Hashing;
using System.Net.Sockets;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>Client side of the socket data plane: one connection per push or pull.</summary>
public static class KvSocketClient
{
    /// <summary>Stall allowance of every transfer; the payload's own time is added at a floor of 100 MB/s.</summary>
    public static readonly TimeSpan BaseTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The deadline of a transfer of <paramref name="bytes"/>: a stalled peer fails it instead of hanging it.</summary>
    public static TimeSpan TimeoutFor(long bytes) => BaseTimeout + TimeSpan.FromSeconds(bytes / 100e6);

    /// <summary>Sends <paramref name="length"/> bytes at <paramref name="source"/> into an allocation; throws unless kv-transfer verified them.</summary>
    public static Task PushAsync(string host, int port, Guid handle, nint source, long length, ulong checksum, CancellationToken cancellationToken) =>
        WithDeadlineAsync(
            async token =>
            {
                await PushCoreAsync(host, port, handle, source, length, checksum, token).ConfigureAwait(false);
                return 0;
            },
            length,
            $"push of {KvHandle.Format(handle)} to {host}:{port}",
            cancellationToken);

    /// <summary>
    /// Pulls a committed allocation into <paramref name="destination"/> (at least <paramref name="capacity"/> bytes),
    /// hashing as it arrives; throws a <see cref="KvTransferException"/> with an integrity reason if the bytes are short or do not match.
    /// Returns the byte count and checksum.
    /// </summary>
    public static Task<(long Length, ulong Checksum)> PullAsync(string host, int port, Guid handle, nint destination, long capacity, CancellationToken cancellationToken) =>
        WithDeadlineAsync(token => PullCoreAsync(host, port, handle, destination, capacity, token), capacity, $"pull of {KvHandle.Format(handle)} from {host}:{port}", cancellationToken);

    private static async Task<T> WithDeadlineAsync<T>(Func<CancellationToken, Task<T>> transfer, long bytes, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = TimeoutFor(bytes);
        deadline.CancelAfter(timeout);
        try
        {
            return await transfer(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KvTransferException(KvTransferErrorReason.Timeout, $"{what} did not finish within {timeout.TotalSeconds:F0} s", e);
        }
    }

    private static async Task PushCoreAsync(string host, int port, Guid handle, nint source, long length, ulong checksum, CancellationToken cancellationToken)
    {
        using var socket = await ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        await KvSocketFrame.SendAsync(socket, new KvSocketFrame((ushort)KvSocketOp.Push, handle, length, checksum), KvSocketFrame.RequestMagic, cancellationToken).ConfigureAwait(false);
        var ready = await ReceiveReplyAsync(socket, cancellationToken).ConfigureAwait(false);
        ThrowIfNotOk(ready, handle, KvSocketOp.Push);
        await KvSocketStreaming.SendAsync(socket, source, length, cancellationToken).ConfigureAwait(false);
        var done = await ReceiveReplyAsync(socket, cancellationToken).ConfigureAwait(false);
        ThrowIfNotOk(done, handle, KvSocketOp.Push);
    }

    private static async Task<(long Length, ulong Checksum)> PullCoreAsync(string host, int port, Guid handle, nint destination, long capacity, CancellationToken cancellationToken)
    {
        using var socket = await ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
        await KvSocketFrame.SendAsync(socket, new KvSocketFrame((ushort)KvSocketOp.Pull, handle, 0, 0), KvSocketFrame.RequestMagic, cancellationToken).ConfigureAwait(false);
        var reply = await ReceiveReplyAsync(socket, cancellationToken).ConfigureAwait(false);
        ThrowIfNotOk(reply, handle, KvSocketOp.Pull);
        if (reply.Length > capacity)
        {
            throw new KvTransferException(KvTransferErrorReason.LengthMismatch, $"pull of {KvHandle.Format(handle)} announced {reply.Length} bytes, more than the {capacity} expected");
        }

        var hasher = new XxHash3();
        var received = await KvSocketStreaming.ReceiveAsync(socket, destination, reply.Length, hasher, cancellationToken).ConfigureAwait(false);
        if (received != reply.Length)
        {
            throw new KvTransferException(KvTransferErrorReason.LengthMismatch, $"pull of {KvHandle.Format(handle)} was truncated: {received} of {reply.Length} bytes");
        }

        var checksum = hasher.GetCurrentHashAsUInt64();
        if (checksum != reply.Checksum)
        {
            throw new KvTransferException(KvTransferErrorReason.ChecksumMismatch, $"pull of {KvHandle.Format(handle)} failed its checksum ({KvChecksum.ToHex(checksum)} != {KvChecksum.ToHex(reply.Checksum)})");
        }

        return (received, checksum);
    }

    private static async Task<Socket> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            KvSocketStreaming.Tune(socket);
            await socket.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<KvSocketFrame> ReceiveReplyAsync(Socket socket, CancellationToken cancellationToken) =>
        await KvSocketFrame.ReceiveAsync(socket, KvSocketFrame.ReplyMagic, cancellationToken).ConfigureAwait(false)
        ?? throw new KvTransferException(KvTransferErrorReason.Protocol, "kv-transfer closed the data-plane connection without a reply");

    private static void ThrowIfNotOk(KvSocketFrame reply, Guid handle, KvSocketOp operation)
    {
        if (reply.Status != KvSocketStatus.Ok)
        {
            throw new KvTransferException(ReasonFor(reply.Status, operation), $"{(operation == KvSocketOp.Pull ? "pull" : "push")} of {KvHandle.Format(handle)} rejected by kv-transfer: {reply.Status}");
        }
    }

    /// <summary>The reason behind a reply status; a wrong state means "not committed" to a reader, "not writable" to a writer.</summary>
    private static KvTransferErrorReason ReasonFor(KvSocketStatus status, KvSocketOp operation) => status switch
    {
        KvSocketStatus.UnknownHandle => KvTransferErrorReason.NotFound,
        KvSocketStatus.WrongState => operation == KvSocketOp.Pull ? KvTransferErrorReason.NotCommitted : KvTransferErrorReason.WrongState,
        KvSocketStatus.LengthMismatch or KvSocketStatus.Truncated => KvTransferErrorReason.LengthMismatch,
        KvSocketStatus.ChecksumMismatch => KvTransferErrorReason.ChecksumMismatch,
        KvSocketStatus.BadRequest => KvTransferErrorReason.InvalidRequest,
        KvSocketStatus.Busy => KvTransferErrorReason.Busy,
        _ => KvTransferErrorReason.Unknown,
    };
}
