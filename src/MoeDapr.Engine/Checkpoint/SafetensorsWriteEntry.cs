using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>A tensor to write: its name, safetensors dtype, shape, and a callback writing exactly its bytes.</summary>
public sealed record SafetensorsWriteEntry(string Name, string Dtype, long[] Shape, Action<Stream> WriteData)
{
    public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b)
        * (SafetensorsHeader.ElementSize(Dtype) ?? throw new ArgumentException($"unknown safetensors dtype \"{Dtype}\"", nameof(Dtype)));

    /// <summary>An entry whose bytes are already in memory (little-endian element order).</summary>
    public static SafetensorsWriteEntry FromBytes(string name, string dtype, long[] shape, byte[] data) =>
        new(name, dtype, shape, stream => stream.Write(data));

    /// <summary>
    /// An entry for a tensor converted to <paramref name="dtype"/> ("F32", "F16" or "BF16"); the conversion
    /// happens when the entry is written, one tensor at a time.
    /// </summary>
    public static SafetensorsWriteEntry FromTensor(string name, torch.Tensor tensor, string dtype)
    {
        var scalarType = SafetensorsFile.TorchDtype(dtype) ?? throw new ArgumentException($"cannot write dtype \"{dtype}\"; use F32, F16 or BF16", nameof(dtype));
        return new(name, dtype, tensor.shape, stream => WriteTensor(stream, tensor, scalarType));
    }

    private static void WriteTensor(Stream stream, torch.Tensor tensor, torch.ScalarType scalarType)
    {
        using var scope = torch.NewDisposeScope();
        var flat = tensor.detach().to(scalarType, torch.CPU).contiguous().view(-1);
        var elementSize = flat.ElementSize;
        var chunk = (1L << 30) / elementSize;
        for (long start = 0; start < flat.NumberOfElements; start += chunk)
        {
            var count = Math.Min(chunk, flat.NumberOfElements - start);
            stream.Write(flat.narrow(0, start, count).bytes);
        }
    }
}
