namespace MoeDapr.KvTransfer;

/// <summary>Where staging bytes live.</summary>
public enum StagingKind
{
    /// <summary>A file under /dev/shm mapped by kv-transfer and by same-host producers and consumers.</summary>
    SharedMemory,

    /// <summary>Private page-aligned native memory; only the socket plane can reach it.</summary>
    Native,
}
