using System.Globalization;
using System.IO.Hashing;
using System.Runtime.Intrinsics.X86;

namespace MoeDapr.KvTransfer.DataPlane;

/// <summary>
/// The checksum every KV transfer carries: XXH3-64 (seed 0) over the whole payload, header included,
/// written as 16 lowercase hex digits. XXH3 is vectorised and hashes faster than memory can be copied,
/// and the copy helper here hashes each chunk while it is in cache for the copy, so integrity costs little on GBs.
/// </summary>
public static class KvChecksum
{
    /// <summary>Chunk for fused copy+hash: small enough to stay in L2 between the copy and the hash.</summary>
    public const int ChunkBytes = 256 * 1024;

    public static ulong Compute(ReadOnlySpan<byte> payload) => XxHash3.HashToUInt64(payload);

    /// <summary>Hashes native memory of any length (spans stop at 2 GiB).</summary>
    public static unsafe ulong Compute(nint address, long length)
    {
        var payload = (byte*)address;
        var hasher = new XxHash3();
        for (long done = 0; done < length;)
        {
            var n = (int)Math.Min(int.MaxValue / 2, length - done);
            hasher.Append(new ReadOnlySpan<byte>(payload + done, n));
            done += n;
        }

        return hasher.GetCurrentHashAsUInt64();
    }

    /// <summary>Payloads from this size on are written with streaming (non-temporal) stores.</summary>
    public const long StreamingStoreBytes = 4L << 20;

    /// <summary>
    /// Copies <paramref name="length"/> bytes and appends them to <paramref name="hasher"/> chunk by chunk: each chunk
    /// is hashed from the source first, which brings it into cache, and then copied from there. The hash covers the
    /// bytes the caller meant to send; a copy that went wrong shows as a mismatch where the copy is verified.
    /// Payloads of <see cref="StreamingStoreBytes"/> or more are stored with non-temporal stores where AVX is there:
    /// a normal store first reads each destination cache line from memory, which on a large copy adds half again to
    /// the memory traffic (the same reason memcpy switches to streaming stores on large copies).
    /// </summary>
    public static unsafe void CopyAndHash(byte* source, byte* destination, long length, XxHash3 hasher)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        var streaming = length >= StreamingStoreBytes && Avx.IsSupported;
        for (long done = 0; done < length;)
        {
            var n = (int)Math.Min(ChunkBytes, length - done);
            hasher.Append(new ReadOnlySpan<byte>(source + done, n));
            if (streaming)
            {
                CopyStreaming(source + done, destination + done, n);
            }
            else
            {
                Buffer.MemoryCopy(source + done, destination + done, n, n);
            }

            done += n;
        }

        if (streaming)
        {
            Sse.StoreFence(); // streaming stores are weakly ordered: make them visible before the caller publishes them
        }
    }

    /// <summary>Copies with 32-byte non-temporal stores; the unaligned head and the tail go through a plain copy.</summary>
    private static unsafe void CopyStreaming(byte* source, byte* destination, int length)
    {
        var head = (int)Math.Min(length, (32 - ((nint)destination & 31)) & 31);
        Buffer.MemoryCopy(source, destination, head, head);
        var i = head;
        for (; i + 128 <= length; i += 128)
        {
            var a = Avx.LoadVector256(source + i);
            var b = Avx.LoadVector256(source + i + 32);
            var c = Avx.LoadVector256(source + i + 64);
            var d = Avx.LoadVector256(source + i + 96);
            Avx.StoreAlignedNonTemporal(destination + i, a);
            Avx.StoreAlignedNonTemporal(destination + i + 32, b);
            Avx.StoreAlignedNonTemporal(destination + i + 64, c);
            Avx.StoreAlignedNonTemporal(destination + i + 96, d);
        }

        for (; i + 32 <= length; i += 32)
        {
            Avx.StoreAlignedNonTemporal(destination + i, Avx.LoadVector256(source + i));
        }

        Buffer.MemoryCopy(source + i, destination + i, length - i, length - i);
    }

    public static string ToHex(ulong checksum) => checksum.ToString("x16", CultureInfo.InvariantCulture);

    public static bool TryParseHex(string? hex, out ulong checksum)
    {
        checksum = 0;
        return hex is { Length: 16 }
            && ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out checksum);
    }
}
