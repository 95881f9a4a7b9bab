namespace MoeDapr.KvTransfer.DataPlane;

/// <summary>Operations of the socket data plane.</summary>
public enum KvSocketOp : ushort
{
    /// <summary>Producer → kv-transfer: the payload bytes of an allocation.</summary>
    Push = 1,

    /// <summary>kv-transfer → consumer: the bytes of a committed allocation.</summary>
    Pull = 2,
}
