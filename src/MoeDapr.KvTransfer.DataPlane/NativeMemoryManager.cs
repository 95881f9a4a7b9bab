using System.Buffers;

namespace MoeDapr.KvTransfer.DataPlane;

/// <summary>A <see cref="Memory{T}"/> over native bytes, so async socket calls can target staging memory directly.</summary>
public sealed unsafe class NativeMemoryManager(byte* pointer, int length) : MemoryManager<byte>
{
    public static NativeMemoryManager Over(nint address, int length) => new((byte*)address, length);

    public override Span<byte> GetSpan() => new(pointer, length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

    public override void Unpin()
    {
        // Native memory never moves.
    }

    protected override void Dispose(bool disposing)
    {
        // The owner of the native memory frees it.
    }
}
