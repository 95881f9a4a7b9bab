using MoeDapr.KvTransfer.DataPlane.Server;

namespace MoeDapr.KvTransfer.DataPlane.Tests.Server;

/// <summary>One allocation of a fixed size in native memory, with the rules of kv-transfer's store: push once, then pull.</summary>
internal sealed class FakeSocketStore(long size) : IKvSocketStore, IDisposable
{
    private readonly KvNativeBuffer _bytes = new(size);
    private ulong _checksum;

    public Guid Handle { get; } = Guid.NewGuid();

    public bool Committed { get; private set; }

    public KvStagingRange Range => new(_bytes.Address, _bytes.Length);

    public KvSocketStatus BeginPush(Guid handle, long length, out KvStagingRange target)
    {
        target = default;
        if (handle != Handle)
        {
            return KvSocketStatus.UnknownHandle;
        }

        if (Committed)
        {
            return KvSocketStatus.WrongState;
        }

        if (length != _bytes.Length)
        {
            return KvSocketStatus.LengthMismatch;
        }

        target = Range;
        return KvSocketStatus.Ok;
    }

    public KvSocketStatus EndPush(Guid handle, long received, ulong checksum, ulong declaredChecksum, TimeSpan elapsed)
    {
        if (received != _bytes.Length)
        {
            return KvSocketStatus.Truncated;
        }

        if (checksum != declaredChecksum)
        {
            return KvSocketStatus.ChecksumMismatch;
        }

        (Committed, _checksum) = (true, checksum);
        return KvSocketStatus.Ok;
    }

    public KvSocketStatus BeginPull(Guid handle, out KvStagingRange source, out ulong checksum)
    {
        (source, checksum) = (default, 0);
        if (handle != Handle)
        {
            return KvSocketStatus.UnknownHandle;
        }

        if (!Committed)
        {
            return KvSocketStatus.WrongState;
        }

        (source, checksum) = (Range, _checksum);
        return KvSocketStatus.Ok;
    }

    public void EndPull(Guid handle, long sent, TimeSpan elapsed)
    {
        // Nothing is pinned here.
    }

    public void Dispose() => _bytes.Dispose();
}
