using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Net;
using System.Net.Sockets;

namespace MoeDapr.KvTransfer.DataPlane.Server;

/// <summary>
/// The TCP server of the socket data plane (protocol in <see cref="KvSocketFrame"/>). Bounded: at most
/// <c>maxConnections</c> at once (more are told Busy), every read or write must progress within <c>ioTimeout</c>.
/// </summary>
public sealed class KvSocketServer : IAsyncDisposable
{
    private readonly IKvSocketStore _store;
    private readonly Socket _listener;
    private readonly SemaphoreSlim _slots;
    private readonly TimeSpan _ioTimeout;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new(); // awaited at dispose, so no transfer outlives the staging memory
    private Task? _acceptLoop;

    public KvSocketServer(IKvSocketStore store, IPEndPoint listenOn, int maxConnections, TimeSpan ioTimeout, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(listenOn);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxConnections);
        _store = store;
        _ioTimeout = ioTimeout;
        _time = timeProvider ?? TimeProvider.System;
        _slots = new SemaphoreSlim(maxConnections, maxConnections);
        _listener = new Socket(listenOn.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(listenOn);
        LocalEndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    /// <summary>The bound address (the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connection-level errors (peer reset, timeout), for logging by the host.</summary>
    public event Action<Exception>? ConnectionFailed;

    public void Start()
    {
        _listener.Listen(128);
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && cancellationToken.IsCancellationRequested)
            {
                return;
            }

            var served = ServeAsync(connection, cancellationToken);
            _connections.TryAdd(served, 0);
            _ = served.ContinueWith(t => _connections.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket connection, CancellationToken stopping)
    {
        using (connection)
        {
            if (!_slots.Wait(0))
            {
                await TrySendBusyAsync(connection, stopping).ConfigureAwait(false);
                return;
            }

            try
            {
                KvSocketStreaming.Tune(connection);
                while (!stopping.IsCancellationRequested)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    timeout.CancelAfter(_ioTimeout);
                    var request = await KvSocketFrame.ReceiveAsync(connection, KvSocketFrame.RequestMagic, timeout.Token).ConfigureAwait(false);
                    if (request is null)
                    {
                        return;
                    }

                    var keepOpen = request.Value.Op switch
                    {
                        KvSocketOp.Push => await ServePushAsync(connection, request.Value, stopping).ConfigureAwait(false),
                        KvSocketOp.Pull => await ServePullAsync(connection, request.Value, stopping).ConfigureAwait(false),
                        _ => await RejectAsync(connection, KvSocketStatus.BadRequest, request.Value.Handle, stopping).ConfigureAwait(false),
                    };
                    if (!keepOpen)
                    {
                        return;
                    }
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or InvalidDataException or ObjectDisposedException)
            {
                if (!stopping.IsCancellationRequested)
                {
                    ConnectionFailed?.Invoke(e);
                }
            }
            finally
            {
                _slots.Release();
            }
        }
    }

    private async Task<bool> ServePushAsync(Socket connection, KvSocketFrame request, CancellationToken stopping)
    {
        var status = _store.BeginPush(request.Handle, request.Length, out var target);
        if (status != KvSocketStatus.Ok)
        {
            return await RejectAsync(connection, status, request.Handle, stopping).ConfigureAwait(false);
        }

        var started = _time.GetTimestamp();
        var hasher = new XxHash3();
        long received = -1;
        try
        {
            await ReplyAsync(connection, KvSocketStatus.Ok, request.Handle, 0, 0, stopping).ConfigureAwait(false);
            received = await ReceiveWithTimeoutAsync(connection, target.Address, request.Length, hasher, stopping).ConfigureAwait(false);
        }
        finally
        {
            // Always end the push, even on a dropped connection: the store marks a short transfer failed.
            status = _store.EndPush(request.Handle, received, hasher.GetCurrentHashAsUInt64(), request.Checksum, _time.GetElapsedTime(started));
        }

        await ReplyAsync(connection, status, request.Handle, Math.Max(0, received), hasher.GetCurrentHashAsUInt64(), stopping).ConfigureAwait(false);
        return status == KvSocketStatus.Ok;
    }

    private async Task<bool> ServePullAsync(Socket connection, KvSocketFrame request, CancellationToken stopping)
    {
        var status = _store.BeginPull(request.Handle, out var source, out var checksum);
        if (status != KvSocketStatus.Ok)
        {
            return await RejectAsync(connection, status, request.Handle, stopping).ConfigureAwait(false);
        }

        var started = _time.GetTimestamp();
        long sent = 0;
        try
        {
            await ReplyAsync(connection, KvSocketStatus.Ok, request.Handle, source.Length, checksum, stopping).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            timeout.CancelAfter(ScaledTimeout(source.Length));
            await KvSocketStreaming.SendAsync(connection, source.Address, source.Length, timeout.Token).ConfigureAwait(false);
            sent = source.Length;
        }
        finally
        {
            _store.EndPull(request.Handle, sent, _time.GetElapsedTime(started));
        }

        return true;
    }

    private async Task<long> ReceiveWithTimeoutAsync(Socket connection, nint destination, long length, XxHash3 hasher, CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(ScaledTimeout(length));
        try
        {
            return await KvSocketStreaming.ReceiveAsync(connection, destination, length, hasher, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            // A dropped or stalled sender: the store records the transfer as truncated.
            return -1;
        }
    }

    /// <summary>The I/O timeout plus the time the payload needs at a floor of 100 MB/s.</summary>
    private TimeSpan ScaledTimeout(long bytes) => _ioTimeout + TimeSpan.FromSeconds(bytes / 100e6);

    private static ValueTask ReplyAsync(Socket connection, KvSocketStatus status, Guid handle, long length, ulong checksum, CancellationToken stopping) =>
        KvSocketFrame.SendAsync(connection, new KvSocketFrame((ushort)status, handle, length, checksum), KvSocketFrame.ReplyMagic, stopping);

    /// <summary>Answers an unusable request and asks the caller to close the connection.</summary>
    private static async Task<bool> RejectAsync(Socket connection, KvSocketStatus status, Guid handle, CancellationToken stopping)
    {
        await ReplyAsync(connection, status, handle, 0, 0, stopping).ConfigureAwait(false);
        return false;
    }

    private static async Task TrySendBusyAsync(Socket connection, CancellationToken stopping)
    {
        try
        {
            await ReplyAsync(connection, KvSocketStatus.Busy, Guid.Empty, 0, 0, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The peer is gone; it will see the connection close.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        // Cancelled transfers end promptly; the bound only guards against a wedged peer.
        try
        {
            await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            ConnectionFailed?.Invoke(e);
        }

        _stopping.Dispose();
    }
}
