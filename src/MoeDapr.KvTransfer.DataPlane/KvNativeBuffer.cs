using System.Runtime.InteropServices;

namespace MoeDapr.KvTransfer.DataPlane;

/// <summary>
/// Page-aligned native memory (NativeMemory.AlignedAlloc), outside the GC heap so it never moves and can be
/// handed to an engine or a socket as a raw pointer. On a CUDA build this is where pinned host memory
/// (cudaHostAlloc, or cudaHostRegister over this block) would come from, so GPU↔host copies can be asynchronous.
/// </summary>
public sealed unsafe class KvNativeBuffer : IDisposable
{
    public const int PageSize = 4096;

    private byte* _pointer;

    public KvNativeBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        Length = length;
        _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, PageSize);
    }

    public long Length { get; }

    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(KvNativeBuffer));

    public nint Address => (nint)Pointer;

    public void Dispose()
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }

    /// <summary>Rounds up to a whole number of pages.</summary>
    public static long RoundUpToPage(long bytes) => (bytes + PageSize - 1) / PageSize * PageSize;
}
