using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane;
using MoeDapr.KvTransfer.DataPlane.Server;

namespace MoeDapr.KvTransfer;

// The socket plane's side of the store (IKvSocketStore): pushes and pulls pin an allocation while its bytes move.
public sealed partial class KvBlockStore
{
    public KvSocketStatus BeginPush(Guid handle, long length, out KvStagingRange target)
    {
        target = default;
        lock (_lock)
        {
            if (!_allocations.TryGetValue(handle, out var allocation))
            {
                return KvSocketStatus.UnknownHandle;
            }

            if (allocation.State != KvAllocationState.Allocated || allocation.Busy)
            {
                return KvSocketStatus.WrongState;
            }

            if (length != allocation.Size)
            {
                return KvSocketStatus.LengthMismatch;
            }

            allocation.Busy = true;
            allocation.Pins++;
            target = new KvStagingRange(allocation.Address, allocation.Size);
            return KvSocketStatus.Ok;
        }
    }

    public KvSocketStatus EndPush(Guid handle, long received, ulong checksum, ulong declaredChecksum, TimeSpan elapsed)
    {
        Allocation? allocation;
        string? reason = null;
        lock (_lock)
        {
            allocation = FindPinned(handle);
            if (allocation is null)
            {
                return KvSocketStatus.UnknownHandle;
            }

            allocation.Busy = false;
            if (received != allocation.Size)
            {
                reason = "truncated";
            }
            else if (checksum != declaredChecksum)
            {
                reason = "checksum";
            }
            else
            {
                allocation.PushedChecksum = checksum;
            }

            if (reason is not null)
            {
                allocation.State = KvAllocationState.Failed;
            }

            Unpin(allocation);
        }

        if (reason is not null)
        {
            _metrics.Failed(reason);
            Log.TransferRejected(_logger, allocation.Handle, reason, $"socket push delivered {Math.Max(0, received)} of {allocation.Size} bytes hashing to {KvChecksum.ToHex(checksum)}, sender declared {KvChecksum.ToHex(declaredChecksum)}");
            return reason == "truncated" ? KvSocketStatus.Truncated : KvSocketStatus.ChecksumMismatch;
        }

        _metrics.Transferred("socket", "in", received, elapsed, "push");
        return KvSocketStatus.Ok;
    }

    public KvSocketStatus BeginPull(Guid handle, out KvStagingRange source, out ulong checksum)
    {
        source = default;
        checksum = 0;
        lock (_lock)
        {
            if (!_allocations.TryGetValue(handle, out var allocation))
            {
                return KvSocketStatus.UnknownHandle;
            }

            if (allocation.State != KvAllocationState.Committed)
            {
                return KvSocketStatus.WrongState;
            }

            allocation.Pins++;
            source = new KvStagingRange(allocation.Address, allocation.Size);
            checksum = allocation.Checksum;
            return KvSocketStatus.Ok;
        }
    }

    public void EndPull(Guid handle, long sent, TimeSpan elapsed)
    {
        lock (_lock)
        {
            if (FindPinned(handle) is { } allocation)
            {
                Unpin(allocation);
            }
        }

        if (sent > 0)
        {
            _metrics.Transferred("socket", "out", sent, elapsed, "pull");
        }
    }
}
