using System.Net;
using Microsoft.Extensions.Options;
using MoeDapr.KvTransfer.Staging;

namespace MoeDapr.KvTransfer;

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
