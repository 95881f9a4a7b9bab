using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Operations of the socket data plane.</summary>
public enum KvSocketOp : ushort
{
    /// <summary>Producer → kv-transfer: the payload bytes of an allocation.</summary>
    Push = 1,

    /// <summary>kv-transfer → consumer: the bytes of a committed allocation.</summary>
    Pull = 2,
}

/// <summary>Outcome codes carried in a reply frame.</summary>
public enum KvSocketStatus : ushort
{
    Ok = 0,
    UnknownHandle = 1,
    WrongState = 2,
    LengthMismatch = 3,
    ChecksumMismatch = 4,
    Truncated = 5,
    BadRequest = 6,
    Busy = 7,
}

/// <summary>
/// One 40-byte little-endian frame of the socket plane (requests use magic "MDKT", replies "MDKR").
/// <code>
/// offset size field
///  0      4   magic
///  4      2   version (1)
///  6      2   op (request, KvSocketOp) or status (reply, KvSocketStatus)
///  8     16   handle (Guid bytes)
/// 24      8   length: bytes that follow this frame (push request, pull reply) or bytes received (push reply)
/// 32      8   checksum: XXH3-64 of those bytes
/// </code>
/// Push: request → reply (Ok = send the bytes) → bytes → reply (Ok, or ChecksumMismatch/Truncated).
/// Pull: request → reply (Ok with length and checksum) → bytes. The receiver always re-hashes what it got.
/// </summary>
public readonly record struct KvSocketFrame(ushort Code, Guid Handle, long Length, ulong Checksum)
{
    public const int Size = 40;
    public const ushort Version = 1;
    public const uint RequestMagic = 0x544B444D; // "MDKT"
    public const uint ReplyMagic = 0x524B444D; // "MDKR"

    public KvSocketOp Op => (KvSocketOp)Code;

    public KvSocketStatus Status => (KvSocketStatus)Code;

    public void Write(Span<byte> destination, uint magic)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Code);
        if (!Handle.TryWriteBytes(destination.Slice(8, 16)))
        {
            throw new InvalidOperationException("handle does not fit its 16 bytes");
        }

        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], Length);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[32..], Checksum);
    }

    public static KvSocketFrame Read(ReadOnlySpan<byte> source, uint magic)
    {
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != magic)
        {
            throw new InvalidDataException("socket frame has the wrong magic");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(source[4..]);
        if (version != Version)
        {
            throw new InvalidDataException($"socket frame version {version} is not supported (expected {Version})");
        }

        return new KvSocketFrame(
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            new Guid(source.Slice(8, 16)),
            BinaryPrimitives.ReadInt64LittleEndian(source[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[32..]));
    }

    public static async ValueTask SendAsync(Socket socket, KvSocketFrame frame, uint magic, CancellationToken cancellationToken)
    {
        var buffer = new byte[Size];
        frame.Write(buffer, magic);
        await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one frame; null when the peer closed the connection before sending a byte.</summary>
    public static async ValueTask<KvSocketFrame?> ReceiveAsync(Socket socket, uint magic, CancellationToken cancellationToken)
    {
        var buffer = new byte[Size];
        var got = 0;
        while (got < Size)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return got == 0 ? null : throw new EndOfStreamException($"connection closed inside a {Size}-byte frame");
            }

            got += n;
        }

        return Read(buffer, magic);
    }
}

/// <summary>Moves native bytes through a socket, hashing each piece while it is still in cache.</summary>
public static class KvSocketStreaming
{
    /// <summary>Largest single send/receive; keeps one call's bytes within L2/L3 before they are hashed.</summary>
    private const int IoChunk = 1024 * 1024;

    /// <summary>Receives up to <paramref name="length"/> bytes into native memory; returns the count (short on EOF).</summary>
    public static async ValueTask<long> ReceiveAsync(Socket socket, nint destination, long length, System.IO.Hashing.XxHash3 hasher, CancellationToken cancellationToken)
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

/// <summary>A <see cref="Memory{T}"/> over native bytes, so async socket calls can target staging memory directly.</summary>
public sealed unsafe class NativeMemoryManager(byte* pointer, int length) : MemoryManager<byte>
{
    public static NativeMemoryManager Over(nint address, int length) => new((byte*)address, length);

    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
        // Native memory never moves.
    }

    protected override void Dispose(bool disposing)
    {
        // The owner of the native memory frees it.
    }
}
