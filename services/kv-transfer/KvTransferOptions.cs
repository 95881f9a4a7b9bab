using System.Net;
using Microsoft.Extensions.Options;
using MoeDapr.KvTransfer.Staging;

namespace MoeDapr.KvTransfer;

/// <summary>Where staging bytes live.</summary>
public enum StagingKind
{
    /// <summary>A file under /dev/shm mapped by kv-transfer and by same-host producers and consumers.</summary>
    SharedMemory,

    /// <summary>Private page-aligned native memory; only the socket plane can reach it.</summary>
    Native,
}

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

/// <summary>Checks <see cref="KvTransferOptions"/> at start; each message names the setting to fix.</summary>
public sealed class KvTransferOptionsValidator : IValidateOptions<KvTransferOptions>
{
    public ValidateOptionsResult Validate(string? name, KvTransferOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        const string s = KvTransferOptions.Section;
        if (string.IsNullOrWhiteSpace(options.HostId))
        {
            errors.Add($"{s}:HostId must not be empty.");
        }

        if (options.CapacityBytes < 1024 * 1024)
        {
            errors.Add($"{s}:CapacityBytes must be at least 1 MiB (got {options.CapacityBytes}).");
        }

        if (options.MaxLeases < 1)
        {
            errors.Add($"{s}:MaxLeases must be at least 1 (got {options.MaxLeases}).");
        }

        if (options.LeaseTtl <= TimeSpan.Zero)
        {
            errors.Add($"{s}:LeaseTtl must be positive (got {options.LeaseTtl}).");
        }

        if (options.SweepInterval <= TimeSpan.Zero || options.SweepInterval > options.LeaseTtl)
        {
            errors.Add($"{s}:SweepInterval must be positive and no longer than LeaseTtl (got {options.SweepInterval}).");
        }

        if (!IPAddress.TryParse(options.SocketListenAddress, out _))
        {
            errors.Add($"{s}:SocketListenAddress '{options.SocketListenAddress}' is not an IP address.");
        }

        if (options.SocketPort is < 0 or > 65535)
        {
            errors.Add($"{s}:SocketPort must be 0..65535 (got {options.SocketPort}).");
        }

        if (options.SocketMaxConnections < 1)
        {
            errors.Add($"{s}:SocketMaxConnections must be at least 1 (got {options.SocketMaxConnections}).");
        }

        if (options.SocketIoTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{s}:SocketIoTimeout must be positive (got {options.SocketIoTimeout}).");
        }

        if (options.Staging == StagingKind.SharedMemory)
        {
            ValidateSharedMemory(options, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateSharedMemory(KvTransferOptions options, List<string> errors)
    {
        var directory = options.ResolveSharedMemoryDirectory();
        if (!Directory.Exists(directory))
        {
            errors.Add($"{KvTransferOptions.Section}:SharedMemoryDirectory '{directory}' does not exist.");
            return;
        }

        // A tmpfs smaller than the arena would turn a later write into SIGBUS; refuse at start instead.
        // Arenas of dead kv-transfer processes are removed before ours is created, so their space counts as free.
        var free = new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace
            + SharedMemoryStaging.FindStale(directory).Sum(path => new FileInfo(path).Length);
        if (free < options.CapacityBytes)
        {
            errors.Add($"{KvTransferOptions.Section}:CapacityBytes ({options.CapacityBytes}) exceeds the {free} bytes free in '{directory}' (set a smaller capacity or a larger /dev/shm).");
        }
    }
}
