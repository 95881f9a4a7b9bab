using System.Buffers.Binary;
using System.Text.Json;
using MoeDapr.Model;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>
/// The parsed and validated header of one safetensors file. Layout (per the safetensors spec): an 8-byte
/// little-endian header length N, N bytes of UTF-8 JSON (padded with spaces), then the data section.
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>The safetensors reference implementation refuses headers above 100 MB; so do we.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private SafetensorsHeader(string path, long headerLength, long fileLength, IReadOnlyDictionary<string, SafetensorsEntry> entries,
        IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        HeaderLength = headerLength;
        FileLength = fileLength;
        Entries = entries;
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>Length of the JSON header in bytes (N), padding included.</summary>
    public long HeaderLength { get; }

    public long FileLength { get; }

    /// <summary>Offset of the data section from the start of the file (8 + N).</summary>
    public long DataOffset => 8 + HeaderLength;

    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> string map (e.g. <c>format: pt</c>); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Bytes per element of a safetensors dtype, or null when the dtype is not one the format defines.</summary>
    public static int? ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" => 8,
        _ => null,
    };

    /// <summary>Reads and validates the header of <paramref name="path"/> (reads the header bytes only).</summary>
    public static SafetensorsHeader Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"{path}: file not found");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new ModelFormatException($"{path}: corrupt safetensors header: the file has {fileLength} bytes, too few for the 8-byte header length");
        }

        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderLength)
        {
            throw new ModelFormatException($"{path}: corrupt safetensors header: header length {headerLength} is above the {MaxHeaderLength}-byte limit");
        }

        if (8 + (long)headerLength > fileLength)
        {
            throw new ModelFormatException(
                $"{path}: corrupt safetensors header: header length {headerLength} runs past the end of the file ({fileLength} bytes); the file may be truncated");
        }

        var json = new byte[headerLength];
        stream.ReadExactly(json);
        return Parse(path, json, fileLength);
    }

    /// <summary>Parses header JSON bytes of a file of <paramref name="fileLength"/> bytes; <paramref name="path"/> names it in errors.</summary>
    public static SafetensorsHeader Parse(string path, ReadOnlySpan<byte> json, long fileLength)
    {
        ModelFormatException Fail(string message) => new($"{path}: corrupt safetensors header: {message}");

        var trimmed = json.TrimEnd((byte)' ');
        if (trimmed.Length == 0 || trimmed[0] != (byte)'{')
        {
            throw Fail("the header is not a JSON object");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(trimmed.ToArray());
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: corrupt safetensors header: invalid JSON ({e.Message})", e);
        }

        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (document)
        {
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw Fail("__metadata__ must be an object of strings");
                    }

                    foreach (var item in property.Value.EnumerateObject())
                    {
                        metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String
                            ? item.Value.GetString()!
                            : throw Fail($"__metadata__ value \"{item.Name}\" must be a string");
                    }

                    continue;
                }

                if (entries.ContainsKey(property.Name))
                {
                    throw Fail($"tensor {property.Name} is listed twice");
                }

                entries[property.Name] = ParseEntry(path, property);
            }
        }

        var dataLength = fileLength - 8 - json.Length;
        CheckLayout(path, entries.Values, dataLength);
        return new SafetensorsHeader(path, json.Length, fileLength, entries, metadata);
    }

    private static SafetensorsEntry ParseEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        ModelFormatException Fail(string message) => new($"{path}: corrupt safetensors header: tensor {name}: {message}");

        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Fail("entry must be an object with dtype, shape and data_offsets");
        }

        var dtype = value.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : throw Fail("missing \"dtype\"");
        if (ElementSize(dtype) is not { } elementSize)
        {
            throw new ModelFormatException($"{path}: tensor {name} has unsupported dtype \"{dtype}\" (supported: F32, F16, BF16)");
        }

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw Fail("missing \"shape\" array");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            shape[i++] = dim.ValueKind == JsonValueKind.Number && dim.TryGetInt64(out var n) && n >= 0 ? n : throw Fail("shape must hold non-negative integers");
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw Fail("missing \"data_offsets\" [begin, end]");
        }

        var begin = offsets[0].ValueKind == JsonValueKind.Number && offsets[0].TryGetInt64(out var b) && b >= 0 ? b : throw Fail("data_offsets must be non-negative integers");
        var end = offsets[1].ValueKind == JsonValueKind.Number && offsets[1].TryGetInt64(out var e) && e >= 0 ? e : throw Fail("data_offsets must be non-negative integers");
        if (end < begin)
        {
            throw Fail($"data_offsets [{begin}, {end}] end before they begin");
        }

        long expectedBytes;
        try
        {
            expectedBytes = checked(shape.Aggregate(1L, (acc, dim) => checked(acc * dim)) * elementSize);
        }
        catch (OverflowException)
        {
            throw Fail($"shape [{string.Join(", ", shape)}] is too large");
        }

        if (end - begin != expectedBytes)
        {
            throw Fail($"data_offsets [{begin}, {end}] span {end - begin} bytes but {dtype} [{string.Join(", ", shape)}] needs {expectedBytes}");
        }

        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    /// <summary>Tensors must tile the data section exactly: no overlap, no gap, nothing past its end.</summary>
    private static void CheckLayout(string path, IEnumerable<SafetensorsEntry> entries, long dataLength)
    {
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            var expectedBegin = previous?.End ?? 0;
            if (entry.Begin < expectedBegin)
            {
                throw new ModelFormatException(
                    $"{path}: corrupt safetensors header: tensor {entry.Name} data_offsets [{entry.Begin}, {entry.End}] overlap tensor {previous!.Name} [{previous.Begin}, {previous.End}]");
            }

            if (entry.Begin > expectedBegin)
            {
                throw new ModelFormatException(
                    $"{path}: corrupt safetensors header: tensor {entry.Name} starts at {entry.Begin}, leaving a gap after byte {expectedBegin} of the data section");
            }

            if (entry.End > dataLength)
            {
                throw new ModelFormatException(
                    $"{path}: truncated file: tensor {entry.Name} needs data bytes [{entry.Begin}, {entry.End}) but the data section holds only {dataLength} bytes");
            }

            previous = entry;
        }

        var used = previous?.End ?? 0;
        if (used != dataLength)
        {
            throw new ModelFormatException(
                $"{path}: corrupt safetensors header: the tensors cover {used} bytes but the data section holds {dataLength}");
        }
    }

    /// <summary>Encodes a header for <paramref name="entries"/> (in order) padded with spaces to a multiple of 8 bytes.</summary>
    public static byte[] Encode(IEnumerable<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            foreach (var entry in entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.Dtype);
                writer.WriteStartArray("shape");
                foreach (var dim in entry.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Begin);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        var length = (int)buffer.Length;
        var padded = (length + 7) / 8 * 8;
        var bytes = new byte[padded];
        buffer.GetBuffer().AsSpan(0, length).CopyTo(bytes);
        bytes.AsSpan(length).Fill((byte)' ');
        return bytes;
    }

    /// <summary>The 8-byte little-endian length prefix for a header of <paramref name="headerLength"/> bytes.</summary>
    public static byte[] LengthPrefix(long headerLength)
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerLength);
        return prefix;
    }
}
