using MoeDapr.KvTransfer.DataPlane;

namespace MoeDapr.KvTransfer.Staging;

/// <summary>Private page-aligned native staging (no shared-memory plane).</summary>
public sealed class NativeStaging(long capacity) : IStagingMemory
{
    private readonly KvNativeBuffer _buffer = new(capacity);

    public string? SharedMemoryPath => null;

    public long Capacity => _buffer.Length;

    public nint BaseAddress => _buffer.Address;

    public void Dispose() => _buffer.Dispose();
}
