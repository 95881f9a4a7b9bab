using System.Globalization;
using System.IO.Hashing;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>
/// The checksum every KV transfer carries: XXH3-64 (seed 0) over the whole payload, header included,
/// written as 16 lowercase hex digits. XXH3 is vectorised and hashes faster than memory can be copied,
/// and the copy helpers here hash each chunk while it is still in cache, so integrity costs little on GBs.
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

    /// <summary>Copies <paramref name="length"/> bytes and appends them to <paramref name="hasher"/> chunk by chunk.</summary>
    public static unsafe void CopyAndHash(byte* source, byte* destination, long length, XxHash3 hasher)
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
