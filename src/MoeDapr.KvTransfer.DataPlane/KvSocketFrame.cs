using System.Buffers.Binary;
using System.Net.Sockets;

namespace MoeDapr.KvTransfer.DataPlane;

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
