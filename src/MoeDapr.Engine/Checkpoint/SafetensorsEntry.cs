using System.Buffers.Binary;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>One tensor of a safetensors file: dtype, shape and its byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public long ByteLength => End - Begin;
}
