using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Kv;

/// <summary>
/// The KV pool: one tensor [blocks, layers, 2, block_size, kv_heads, head_dim], so that one block holds
/// every layer's K and V contiguously, in exactly the byte order of the export payload
/// (<see cref="KvPayloadHeader"/>): export and import copy whole blocks.
/// </summary>
public sealed class PagedKvCache : IDisposable
{
    private readonly Tensor _storage;
    private readonly Tensor[] _layers; // per layer [blocks, block_size, 2, kv_heads, head_dim] views

    public PagedKvCache(ModelConfig config, int numBlocks, int blockSize, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numBlocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        NumBlocks = numBlocks;
        BlockSize = blockSize;
        Layers = config.NumLayers;
        KvHeads = config.NumKvHeads;
        HeadDim = config.HeadDim;
        Dtype = dtype;
        Device = device;
        _storage = zeros([numBlocks, Layers, 2, blockSize, KvHeads, HeadDim], dtype: dtype, device: device).DetachFromDisposeScope();
        _layers = Enumerable.Range(0, Layers)
            .Select(l => _storage.select(1, l).permute(0, 2, 1, 3, 4).DetachFromDisposeScope())
            .ToArray();
    }

    public int NumBlocks { get; }
    public int BlockSize { get; }
    public int Layers { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    public ScalarType Dtype { get; }
    public Device Device { get; }

    /// <summary>Bytes of one block in this cache's dtype.</summary>
    public long BlockBytes => 2L * Layers * BlockSize * KvHeads * HeadDim * ElementSize(Dtype);

    /// <summary>Blocks that fit in <paramref name="bytes"/> for <paramref name="config"/>.</summary>
    public static int BlocksForBytes(ModelConfig config, int blockSize, ScalarType dtype, long bytes)
    {
        var blockBytes = 2L * config.NumLayers * blockSize * config.NumKvHeads * config.HeadDim * ElementSize(dtype);
        return (int)Math.Max(1, Math.Min(int.MaxValue, bytes / blockBytes));
    }

    /// <summary>Layer <paramref name="layer"/>'s view [blocks, block_size, 2, kv_heads, head_dim].</summary>
    internal Tensor Layer(int layer) => _layers[layer];

    /// <summary>The header an export of <paramref name="tokens"/> tokens carries.</summary>
    public KvPayloadHeader HeaderFor(int tokens) => new(ToKvDtype(Dtype), Layers, KvHeads, HeadDim, BlockSize, tokens);

    /// <summary>
    /// Writes the header and the blocks holding a sequence's first <paramref name="tokens"/> tokens to
    /// native memory at <paramref name="destination"/> (e.g. a shared-memory mapping); returns bytes written.
    /// Slots past <paramref name="tokens"/> in the last block are written as zero.
    /// </summary>
    public unsafe long Export(IReadOnlyList<int> blocks, int tokens, IntPtr destination, long length)
    {
        var header = HeaderFor(tokens);
        if (blocks.Count < header.Blocks)
        {
            throw new ArgumentException($"{tokens} tokens need {header.Blocks} blocks, got {blocks.Count}", nameof(blocks));
        }

        if (length < header.PayloadBytes)
        {
            throw new ArgumentException($"the destination holds {length} bytes; the payload needs {header.PayloadBytes}", nameof(length));
        }

        header.Write(new Span<byte>((void*)destination, KvPayloadHeader.Size));
        using var scope = NewDisposeScope();
        var index = tensor(blocks.Take(header.Blocks).Select(b => (long)b).ToArray(), dtype: ScalarType.Int64, device: Device);
        var selected = _storage.index_select(0, index).cpu().contiguous(); // [n, layers, 2, block_size, kv_heads, head_dim]
        var tail = (header.Blocks * BlockSize) - tokens;
        if (tail > 0)
        {
            selected[header.Blocks - 1].narrow(2, BlockSize - tail, tail).zero_();
        }

        CopyOut(selected, (byte*)destination + KvPayloadHeader.Size, header.Blocks * header.BlockBytes);
        return header.PayloadBytes;
    }

    /// <summary>
    /// Reads a payload from native memory into <paramref name="blocks"/> (one per payload block); converts the
    /// dtype if it differs. Throws <see cref="InvalidDataException"/> when the payload does not fit this model.
    /// </summary>
    public unsafe KvPayloadHeader Import(IntPtr source, long length, IReadOnlyList<int> blocks)
    {
        var header = ReadHeader(source, length);
        if (blocks.Count != header.Blocks)
        {
            throw new ArgumentException($"the payload holds {header.Blocks} blocks, {blocks.Count} were given", nameof(blocks));
        }

        using var scope = NewDisposeScope();
        var data = empty([header.Blocks, Layers, 2, BlockSize, KvHeads, HeadDim], dtype: FromKvDtype(header.Dtype));
        CopyIn((byte*)source + KvPayloadHeader.Size, data, header.Blocks * header.BlockBytes);
        var index = tensor(blocks.Select(b => (long)b).ToArray(), dtype: ScalarType.Int64, device: Device);
        _storage.index_copy_(0, index, data.to(Dtype, Device));
        return header;
    }

    /// <summary>Validates that a payload at <paramref name="source"/> fits this cache and is complete.</summary>
    public unsafe KvPayloadHeader ReadHeader(IntPtr source, long length)
    {
        if (length < KvPayloadHeader.Size)
        {
            throw new InvalidDataException($"KV payload of {length} bytes is shorter than its header");
        }

        var header = KvPayloadHeader.Read(new ReadOnlySpan<byte>((void*)source, KvPayloadHeader.Size));
        if (header.Layers != Layers || header.KvHeads != KvHeads || header.HeadDim != HeadDim || header.BlockSize != BlockSize)
        {
            throw new InvalidDataException(
                $"KV payload is for {header.Layers} layers × {header.KvHeads} kv heads × {header.HeadDim} head dim, block {header.BlockSize}; " +
                $"this engine has {Layers} × {KvHeads} × {HeadDim}, block {BlockSize}");
        }

        if (length < header.PayloadBytes)
        {
            throw new InvalidDataException($"KV payload is truncated: {length} bytes, its header says {header.PayloadBytes}");
        }

        return header;
    }

    private static unsafe void CopyOut(Tensor cpuContiguous, byte* destination, long bytes)
    {
        var span = cpuContiguous.bytes;
        if (span.Length != bytes)
        {
            throw new InvalidOperationException($"KV export produced {span.Length} bytes, expected {bytes}");
        }

        fixed (byte* from = span)
        {
            Buffer.MemoryCopy(from, destination, bytes, bytes);
        }
    }

    private static unsafe void CopyIn(byte* source, Tensor cpuContiguous, long bytes)
    {
        var span = cpuContiguous.bytes;
        fixed (byte* to = span)
        {
            Buffer.MemoryCopy(source, to, span.Length, bytes);
        }
    }

    internal static int ElementSize(ScalarType dtype) => dtype == ScalarType.Float32 ? 4 : 2;

    internal static KvDtype ToKvDtype(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => KvDtype.Float32,
        ScalarType.BFloat16 => KvDtype.BFloat16,
        ScalarType.Float16 => KvDtype.Float16,
        _ => throw new NotSupportedException($"KV dtype {dtype}"),
    };

    internal static ScalarType FromKvDtype(KvDtype dtype) => dtype switch
    {
        KvDtype.Float32 => ScalarType.Float32,
        KvDtype.BFloat16 => ScalarType.BFloat16,
        _ => ScalarType.Float16,
    };

    public void Dispose()
    {
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }

        _storage.Dispose();
    }
}
