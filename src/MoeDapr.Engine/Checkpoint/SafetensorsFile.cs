using System.IO.MemoryMappedFiles;
using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>
/// One safetensors file mapped read-only into memory. Tensors are copied straight from the mapping into
/// native tensor storage, so loading never holds the weights in managed memory.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Largest single copy; spans are limited to 2 GiB.</summary>
    private const long CopyChunkBytes = 1L << 30;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _pointer;

    private SafetensorsFile(SafetensorsHeader header, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* pointer)
    {
        Header = header;
        _map = map;
        _view = view;
        _pointer = pointer;
    }

    public SafetensorsHeader Header { get; }

    public string Path => Header.Path;

    /// <summary>Validates the header of <paramref name="path"/> and maps the file.</summary>
    public static SafetensorsFile Open(string path)
    {
        var header = SafetensorsHeader.Read(path);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;
            return new SafetensorsFile(header, map, view, pointer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view?.Dispose();
            map?.Dispose();
            throw new ModelFormatException($"{path}: cannot map the file: {e.Message}", e);
        }
    }

    /// <summary>The torch dtype of a safetensors dtype MoeDapr loads, or null when it loads no such dtype.</summary>
    public static torch.ScalarType? TorchDtype(string dtype) => dtype switch
    {
        "F32" => torch.ScalarType.Float32,
        "F16" => torch.ScalarType.Float16,
        "BF16" => torch.ScalarType.BFloat16,
        _ => null,
    };

    /// <summary>The raw bytes of a tensor below 2 GiB, read in place from the mapping.</summary>
    public ReadOnlySpan<byte> RawBytes(SafetensorsEntry entry)
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        if (entry.ByteLength > int.MaxValue)
        {
            throw new ArgumentException($"tensor {entry.Name} has {entry.ByteLength} bytes, above what one span can hold", nameof(entry));
        }

        return new ReadOnlySpan<byte>(_pointer + Header.DataOffset + entry.Begin, (int)entry.ByteLength);
    }

    /// <summary>
    /// Copies tensor <paramref name="name"/> into a new tensor of <paramref name="dtype"/> on <paramref name="device"/>.
    /// The result belongs to no dispose scope.
    /// </summary>
    public torch.Tensor Load(string name, torch.ScalarType dtype, torch.Device device)
    {
        ObjectDisposedException.ThrowIf(_pointer is null, this);
        if (!Header.Entries.TryGetValue(name, out var entry))
        {
            throw new ModelFormatException($"{Path}: missing tensor {name}");
        }

        var sourceType = TorchDtype(entry.Dtype)
            ?? throw new ModelFormatException($"{Path}: tensor {name} has unsupported dtype \"{entry.Dtype}\" (supported: F32, F16, BF16)");

        using var scope = torch.NewDisposeScope();
        var raw = torch.empty(entry.Shape, sourceType, torch.CPU);
        if (entry.ElementCount > 0)
        {
            var elementSize = entry.ByteLength / entry.ElementCount;
            var chunkElements = CopyChunkBytes / elementSize;
            var flat = raw.view(-1);
            var source = _pointer + Header.DataOffset + entry.Begin;
            for (long start = 0; start < entry.ElementCount; start += chunkElements)
            {
                var count = Math.Min(chunkElements, entry.ElementCount - start);
                var part = flat.narrow(0, start, count);
                new ReadOnlySpan<byte>(source + (start * elementSize), (int)(count * elementSize)).CopyTo(part.bytes);
            }
        }

        var result = raw.dtype == dtype && device.type == DeviceType.CPU ? raw : raw.to(dtype, device);
        return result.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        if (_pointer is null)
        {
            return;
        }

        _pointer = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
