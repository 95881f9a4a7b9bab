using System.Buffers.Binary;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>
/// The 64-byte little-endian header in front of a sequence's exported KV cache.
/// <code>
/// offset size field
///  0      4   magic "MDKV"
///  4      2   version (1)
///  6      2   dtype (KvDtype)
///  8      4   layers
/// 12      4   kv_heads
/// 16      4   head_dim
/// 20      4   block_size (tokens per block)
/// 24      4   tokens (valid tokens in the sequence)
/// 28      4   blocks (= ceil(tokens / block_size))
/// 32     32   reserved, zero
/// </code>
/// The body follows: for each block in sequence order, for each layer, the K block then the V block, each
/// <c>[block_size, kv_heads, head_dim]</c> elements of <c>dtype</c>; slots past <c>tokens</c> in the last block are zero.
/// One block is therefore <see cref="BlockBytes"/> contiguous bytes, so blocks can be stored, hashed and
/// shared one by one.
/// </summary>
public readonly record struct KvPayloadHeader(KvDtype Dtype, int Layers, int KvHeads, int HeadDim, int BlockSize, int Tokens)
{
    public const int Size = 64;
    public const ushort CurrentVersion = 1;
    private const uint Magic = 0x564B444D; // "MDKV" read as little-endian uint32

    public int Blocks => (Tokens + BlockSize - 1) / BlockSize;

    public int ElementSize => Dtype == KvDtype.Float32 ? 4 : 2;

    /// <summary>Bytes of one block: all layers' K and V.</summary>
    public long BlockBytes => 2L * Layers * BlockSize * KvHeads * HeadDim * ElementSize;

    /// <summary>Header plus body.</summary>
    public long PayloadBytes => Size + (Blocks * BlockBytes);

    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"need {Size} bytes for the KV header", nameof(destination));
        }

        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)Dtype);
        BinaryPrimitives.WriteInt32LittleEndian(destination[8..], Layers);
        BinaryPrimitives.WriteInt32LittleEndian(destination[12..], KvHeads);
        BinaryPrimitives.WriteInt32LittleEndian(destination[16..], HeadDim);
        BinaryPrimitives.WriteInt32LittleEndian(destination[20..], BlockSize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[24..], Tokens);
        BinaryPrimitives.WriteInt32LittleEndian(destination[28..], Blocks);
    }

    /// <summary>Reads and validates a header; throws <see cref="InvalidDataException"/> on any inconsistency.</summary>
    public static KvPayloadHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new InvalidDataException($"KV payload shorter than its {Size}-byte header ({source.Length} bytes)");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != Magic)
        {
            throw new InvalidDataException("KV payload does not start with the MDKV magic");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(source[4..]);
        if (version != CurrentVersion)
        {
            throw new InvalidDataException($"KV payload version {version} is not supported (expected {CurrentVersion})");
        }

        var dtype = (KvDtype)BinaryPrimitives.ReadUInt16LittleEndian(source[6..]);
        if (!Enum.IsDefined(dtype))
        {
            throw new InvalidDataException($"KV payload dtype {(ushort)dtype} is unknown");
        }

        var header = new KvPayloadHeader(
            dtype,
            BinaryPrimitives.ReadInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[12..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[20..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[24..]));
        if (header.Layers <= 0 || header.KvHeads <= 0 || header.HeadDim <= 0 || header.BlockSize <= 0 || header.Tokens <= 0)
        {
            throw new InvalidDataException("KV payload header has a non-positive dimension");
        }

        if (BinaryPrimitives.ReadInt32LittleEndian(source[28..]) != header.Blocks)
        {
            throw new InvalidDataException("KV payload block count does not match its token count");
        }

        return header;
    }
}
