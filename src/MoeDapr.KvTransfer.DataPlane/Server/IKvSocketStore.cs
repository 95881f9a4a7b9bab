namespace MoeDapr.KvTransfer.DataPlane.Server;

/// <summary>What the socket server needs from a block store. Each Begin that answers Ok is paired with one End.</summary>
public interface IKvSocketStore
{
    /// <summary>Checks a push and pins the allocation's staging range against release until <see cref="EndPush"/>.</summary>
    KvSocketStatus BeginPush(Guid handle, long length, out KvStagingRange target);

    /// <summary>Records a push: <paramref name="received"/> bytes whose XXH3 is <paramref name="checksum"/>, against the sender's claim.</summary>
    KvSocketStatus EndPush(Guid handle, long received, ulong checksum, ulong declaredChecksum, TimeSpan elapsed);

    /// <summary>Checks a pull and pins the committed bytes until <see cref="EndPull"/>.</summary>
    KvSocketStatus BeginPull(Guid handle, out KvStagingRange source, out ulong checksum);

    void EndPull(Guid handle, long sent, TimeSpan elapsed);
}
