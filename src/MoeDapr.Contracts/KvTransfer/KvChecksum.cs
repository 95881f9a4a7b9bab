using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>
/// The checksum every KV transfer carries: the payload (header included) is cut into <see cref="ChunkBytes"/> chunks
/// (the last one may be shorter), each chunk is hashed with one-shot XXH3-64 (seed 0), and the checksum is XXH3-64 of
/// the chunk hashes (each 8 bytes, little-endian, in order); written as 16 lowercase hex digits. One-shot XXH3 runs
/// at memory speed, while .NET's incremental <see cref="XxHash3"/>.Append is many times slower on large inputs
/// (about 18 ms against 0.6 ms for 8 MiB here), which is why the chunks are hashed whole.
/// The copy helpers hash each chunk while it is still in cache, so integrity costs little on GBs.
/// </summary>
public static class KvChecksum
{
    /// <summary>Chunk of the checksum and of fused copy+hash: small enough to stay in L2 between the copy and the hash.</summary>
    public const int ChunkBytes = 256 * 1024;

    public static unsafe ulong Compute(ReadOnlySpan<byte> payload)
    {
        fixed (byte* pointer = payload)
        {
            return Compute((nint)pointer, payload.Length);
        }
    }

    /// <summary>Hashes native memory of any length.</summary>
    public static unsafe ulong Compute(nint address, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var payload = (byte*)address;
        var builder = new KvChecksumBuilder();
        for (long done = 0; done < length; done += ChunkBytes)
        {
            builder.AppendChunk(new ReadOnlySpan<byte>(payload + done, (int)Math.Min(ChunkBytes, length - done)));
        }

        return builder.GetCurrentHash();
    }

    /// <summary>Copies <paramref name="length"/> bytes and appends them to <paramref name="hasher"/> chunk by chunk.</summary>
    public static unsafe void CopyAndHash(byte* source, byte* destination, long length, KvChecksumBuilder hasher)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        for (long done = 0; done < length;)
        {
            var n = (int)Math.Min(ChunkBytes, length - done);
            Buffer.MemoryCopy(source + done, destination + done, n, n);

            // Hash the destination: it is in cache now, and it is what the other side will see.
            hasher.Append(new ReadOnlySpan<byte>(destination + done, n));
            done += n;
        }
    }

    public static string ToHex(ulong checksum) => checksum.ToString("x16", CultureInfo.InvariantCulture);

    public static bool TryParseHex(string? hex, out ulong checksum)
    {
        checksum = 0;
        return hex is { Length: 16 }
            && ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out checksum);
    }
}

/// <summary>
/// Builds a <see cref="KvChecksum"/> from bytes appended in order, in pieces of any size. Whole chunks that arrive
/// on a chunk boundary are hashed in place; a piece that straddles a boundary is gathered in a chunk-sized buffer.
/// </summary>
public sealed class KvChecksumBuilder
{
    private readonly XxHash3 _chunkHashes = new();
    private byte[]? _pending;
    private int _pendingLength;
    private bool _finished;

    /// <summary>Appends the next bytes of the payload.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_pendingLength == 0 && data.Length >= KvChecksum.ChunkBytes)
            {
                AppendChunk(data[..KvChecksum.ChunkBytes]);
                data = data[KvChecksum.ChunkBytes..];
                continue;
            }

            _pending ??= new byte[KvChecksum.ChunkBytes];
            var n = Math.Min(KvChecksum.ChunkBytes - _pendingLength, data.Length);
            data[..n].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += n;
            data = data[n..];
            if (_pendingLength == KvChecksum.ChunkBytes)
            {
                _pendingLength = 0;
                AppendChunk(_pending);
            }
        }
    }

    /// <summary>The checksum of everything appended so far (appending more afterwards is an error).</summary>
    public ulong GetCurrentHash()
    {
        if (_pendingLength > 0)
        {
            var tail = _pending.AsSpan(0, _pendingLength);
            _pendingLength = 0;
            AppendChunk(tail);
        }

        _finished = true;
        return _chunkHashes.GetCurrentHashAsUInt64();
    }

    /// <summary>Appends one whole chunk (or the payload's shorter last one) at a chunk boundary.</summary>
    internal void AppendChunk(ReadOnlySpan<byte> chunk)
    {
        if (_finished)
        {
            throw new InvalidOperationException("the checksum was already taken; a builder hashes one payload");
        }

        Span<byte> hash = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(hash, XxHash3.HashToUInt64(chunk));
        _chunkHashes.Append(hash);
    }
}

/// <summary>Handles are 128-bit random values written as 32 lowercase hex digits; the socket plane sends the 16 bytes.</summary>
public static class KvHandle
{
    public static string New() => Guid.NewGuid().ToString("N");

    public static bool TryParse(string? handle, out Guid value)
    {
        value = default;
        return handle is { Length: 32 } && Guid.TryParseExact(handle, "N", out value);
    }

    public static string Format(Guid value) => value.ToString("N");
}
