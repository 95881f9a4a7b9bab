namespace MoeDapr.KvTransfer.Staging;

/// <summary>
/// The one block of memory all staging ranges are carved from. CPU builds use a /dev/shm file (shared with
/// same-host peers) or private AlignedAlloc memory. A CUDA build would register this block as pinned host
/// memory (cudaHostRegister) so that engine GPU↔host copies into it run asynchronously: that is the seam,
/// and the only place that would change.
/// </summary>
public interface IStagingMemory : IDisposable
{
    /// <summary>Path peers map, or null when the memory is private (socket plane only).</summary>
    string? SharedMemoryPath { get; }

    long Capacity { get; }

    nint BaseAddress { get; }
}
