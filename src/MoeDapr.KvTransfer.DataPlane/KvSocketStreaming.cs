using System.IO.Hashing;
using System.Net.Sockets;

namespace MoeDapr.KvTransfer.DataPlane;

/// <summary>Moves native bytes through a socket, hashing each piece while it is still in cache.</summary>
public static class KvSocketStreaming
{
    /// <summary>Largest single send/receive; keeps one call's bytes within L2/L3 before they are hashed.</summary>
    private const int IoChunk = 1024 * 1024;

    /// <summary>Receives up to <paramref name="length"/> bytes into native memory; returns the count (short on EOF).</summary>
    public static async ValueTask<long> ReceiveAsync(Socket socket, nint destination, long length, XxHash3 hasher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(hasher);
        long done = 0;
        while (done < length)
        {
            var n = (int)Math.Min(IoChunk, length - done);
            using var memory = NativeMemoryManager.Over(destination + (nint)done, n);
            var got = await socket.ReceiveAsync(memory.Memory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (got == 0)
            {
                break;
            }

            hasher.Append(memory.GetSpan()[..got]);
            done += got;
        }

        return done;
    }

    /// <summary>Sends <paramref name="length"/> bytes from native memory.</summary>
    public static async ValueTask SendAsync(Socket socket, nint source, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        long done = 0;
        while (done < length)
        {
            var n = (int)Math.Min(IoChunk, length - done);
            using var memory = NativeMemoryManager.Over(source + (nint)done, n);
            done += await socket.SendAsync(memory.Memory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sets the socket options the data plane wants: no Nagle, large kernel buffers.</summary>
    public static void Tune(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.NoDelay = true;
        socket.SendBufferSize = 4 * 1024 * 1024;
        socket.ReceiveBufferSize = 4 * 1024 * 1024;
    }
}
