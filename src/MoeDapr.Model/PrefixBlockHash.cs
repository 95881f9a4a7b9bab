using System.Buffers.Binary;
using System.Security.Cryptography;

namespace MoeDapr.Model;

/// <summary>
/// Content hash of one full KV block: SHA-256 over the parent block's hash and the block's token ids,
/// truncated to 128 bits. Equal hashes mean equal token prefixes, so a block can be reused by any
/// sequence that starts with the same tokens. Router, engine and kv-transfer all use this one function.
/// </summary>
public static class PrefixBlockHash
{
    /// <summary>The parent hash of a sequence's first block.</summary>
    public static UInt128 Root => UInt128.Zero;

    public static UInt128 Compute(UInt128 parent, ReadOnlySpan<int> blockTokens)
    {
        Span<byte> input = stackalloc byte[16 + (4 * blockTokens.Length)];
        BinaryPrimitives.WriteUInt128LittleEndian(input, parent);
        for (var i = 0; i < blockTokens.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(input[(16 + (4 * i))..], blockTokens[i]);
        }

        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(input, digest);
        return BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    /// <summary>Hashes of every full block of <paramref name="tokens"/>, in order (a partial last block has none).</summary>
    public static UInt128[] Chain(ReadOnlySpan<int> tokens, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        var hashes = new UInt128[tokens.Length / blockSize];
        var parent = Root;
        for (var b = 0; b < hashes.Length; b++)
        {
            parent = Compute(parent, tokens.Slice(b * blockSize, blockSize));
            hashes[b] = parent;
        }

        return hashes;
    }

    /// <summary>32 lowercase hex digits, the form hashes take in JSON messages.</summary>
    public static string ToHex(UInt128 hash) => hash.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    public static UInt128 ParseHex(string hex) =>
        UInt128.Parse(hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
}
