using System.Net;

namespace MoeDapr.KvTransfer;

/// <summary>Settings of kv-transfer, bound from the <c>KvTransfer</c> configuration section.</summary>
public sealed class KvTransferOptions
{
    public const string Section = "KvTransfer";

    /// <summary>Host identity compared with a requester's to decide whether shared memory is usable.</summary>
    public string HostId { get; set; } = Environment.MachineName;

    /// <summary>Total staging bytes; allocations beyond it are refused with 507.</summary>
    public long CapacityBytes { get; set; } = 1L << 30;

    /// <summary>Most live allocations at once; more are refused with 429.</summary>
    public int MaxLeases { get; set; } = 4096;

    /// <summary>How long an allocation lives without a commit or renew.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often expired leases are swept.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    public StagingKind Staging { get; set; } = StagingKind.SharedMemory;

    /// <summary>Directory of the staging file; empty means /dev/shm, or the temp directory where /dev/shm is missing.</summary>
    public string SharedMemoryDirectory { get; set; } = string.Empty;

    /// <summary>Address the socket data plane listens on (0.0.0.0 to serve other hosts).</summary>
    public string SocketListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Socket data-plane port; 0 picks a free one (the control API tells clients which).</summary>
    public int SocketPort { get; set; }

    /// <summary>Host name clients connect to; empty means the listen address (or HostId when listening on all addresses).</summary>
    public string SocketAdvertiseHost { get; set; } = string.Empty;

    public int SocketMaxConnections { get; set; } = 64;

    /// <summary>
    /// Re-hash shared-memory payloads at commit and refuse a mismatch there. Off by default: every reader verifies the
    /// checksum in the same pass as its copy (and the socket plane as bytes arrive), so a corrupted payload is never
    /// used either way; this extra read pass over the payload only moves the detection to commit time.
    /// </summary>
    public bool VerifySharedMemoryCommits { get; set; }

    /// <summary>Longest a data-plane connection may stall before it is dropped.</summary>
    public TimeSpan SocketIoTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The shared-memory directory after defaults.</summary>
    public string ResolveSharedMemoryDirectory() =>
        !string.IsNullOrWhiteSpace(SharedMemoryDirectory) ? SharedMemoryDirectory
        : Directory.Exists("/dev/shm") ? "/dev/shm"
        : Path.GetTempPath();

    /// <summary>The host clients should dial for the socket plane.</summary>
    public string ResolveAdvertiseHost()
    {
        if (!string.IsNullOrWhiteSpace(SocketAdvertiseHost))
        {
            return SocketAdvertiseHost;
        }

        var listen = IPAddress.Parse(SocketListenAddress);
        return listen.Equals(IPAddress.Any) || listen.Equals(IPAddress.IPv6Any) ? HostId : SocketListenAddress;
    }
}
