using System.Diagnostics;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.KvTransfer.DataPlane;
using MoeDapr.KvTransfer.DataPlane.Server;
using MoeDapr.KvTransfer.Staging;

namespace MoeDapr.KvTransfer;

/// <summary>
/// kv-transfer's state: allocations carved from one staging block, their leases, and the prefix index.
/// Metadata changes happen under one lock; bytes are moved and hashed outside it, with the allocation
/// pinned so a release or expiry during a transfer frees the range only when the transfer ends.
/// </summary>
public sealed partial class KvBlockStore : IKvSocketStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Allocation> _allocations = [];
    private readonly Dictionary<Guid, Allocation> _pinnedRemoved = []; // released while a transfer still touches the bytes
    private readonly PrefixIndex _index = new();
    private readonly IStagingMemory _staging;
    private readonly RangeAllocator _allocator;
    private readonly KvTransferOptions _options;
    private readonly TimeProvider _time;
    private readonly KvTransferMetrics _metrics;
    private readonly ILogger<KvBlockStore> _logger;
    private string _socketHost;
    private int _socketPort;

    public KvBlockStore(IStagingMemory staging, IOptions<KvTransferOptions> options, TimeProvider time, KvTransferMetrics metrics, ILogger<KvBlockStore> logger)
    {
        ArgumentNullException.ThrowIfNull(staging);
        ArgumentNullException.ThrowIfNull(options);
        _staging = staging;
        _options = options.Value;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _allocator = new RangeAllocator(staging.Capacity, KvNativeBuffer.PageSize);
        _socketHost = _options.ResolveAdvertiseHost();
        _socketPort = _options.SocketPort;
        PublishGauges();
    }

    public long Capacity => _allocator.Capacity;

    public long BytesInUse
    {
        get
        {
            lock (_lock)
            {
                return _allocator.BytesInUse;
            }
        }
    }

    public int LeasesActive
    {
        get
        {
            lock (_lock)
            {
                return _allocations.Count;
            }
        }
    }

    /// <summary>Set by the socket plane once it listens (the real port when 0 was configured).</summary>
    public void SetSocketEndpoint(string host, int port)
    {
        lock (_lock)
        {
            _socketHost = host;
            _socketPort = port;
        }
    }

    public KvStoreResult<KvAllocateResponse> Allocate(KvAllocateRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        Allocation allocation;
        lock (_lock)
        {
            if (_allocations.Count >= _options.MaxLeases)
            {
                _metrics.Rejected("leases");
                Log.AllocationRefused(_logger, request.SizeBytes, request.Requester, "too many leases");
                return KvStoreResult<KvAllocateResponse>.Fail(KvTransferErrorReason.TooManyLeases, $"{_allocations.Count} leases are live (KvTransfer:MaxLeases = {_options.MaxLeases})");
            }

            if (!_allocator.TryAllocate(request.SizeBytes, out var offset, out var reserved))
            {
                _metrics.Rejected("capacity");
                Log.AllocationRefused(_logger, request.SizeBytes, request.Requester, "staging full");
                return KvStoreResult<KvAllocateResponse>.Fail(KvTransferErrorReason.Capacity,
                    $"no free staging range of {request.SizeBytes} bytes: {_allocator.BytesInUse} of {_allocator.Capacity} bytes in use, largest free range {_allocator.LargestFree}");
            }

            allocation = new Allocation(Guid.NewGuid(), offset, reserved, request)
            {
                Address = _staging.BaseAddress + (nint)offset,
                ExpiresAt = _time.GetUtcNow() + _options.LeaseTtl,
            };
            _allocations.Add(allocation.Id, allocation);
            PublishGauges();
        }

        var endpoint = EndpointFor(allocation, request.RequesterHost, request.PreferredPlane);
        Log.Allocated(_logger, allocation.Handle, request.SizeBytes, request.Requester, endpoint.Plane.ToString());
        return KvStoreResult<KvAllocateResponse>.Ok(new KvAllocateResponse(allocation.Handle, request.SizeBytes, endpoint, allocation.ExpiresAt));
    }

    /// <summary>
    /// Seals an allocation: the declared length must be the allocated size, the bytes must hash to the declared
    /// checksum (compared with what the socket push saw; for shared memory hashed here only with
    /// <c>KvTransfer:VerifySharedMemoryCommits</c>, since readers verify as they copy), and the header must match the
    /// layout. Anything else marks the payload failed; it is never served.
    /// </summary>
    public KvStoreResult<KvCommitResponse> Commit(Guid handle, long bytesWritten, ulong checksum)
    {
        Allocation allocation;
        lock (_lock)
        {
            if (!_allocations.TryGetValue(handle, out allocation!))
            {
                return KvStoreResult<KvCommitResponse>.Fail(KvTransferErrorReason.NotFound, $"no allocation {KvHandle.Format(handle)} (released, expired or never made)");
            }

            if (allocation.State != KvAllocationState.Allocated || allocation.Busy)
            {
                return KvStoreResult<KvCommitResponse>.Fail(KvTransferErrorReason.WrongState, $"allocation {allocation.Handle} is {allocation.State}{(allocation.Busy ? " with a transfer in flight" : string.Empty)}");
            }

            allocation.Busy = true;
            allocation.Pins++;
        }

        string? reason = null;
        string? detail = null;
        try
        {
            (reason, detail) = CheckPayload(allocation, bytesWritten, checksum);
        }
        finally
        {
            lock (_lock)
            {
                allocation.Busy = false;
                if (reason is null && !allocation.Removed)
                {
                    allocation.State = KvAllocationState.Committed;
                    allocation.Checksum = checksum;
                    allocation.ExpiresAt = _time.GetUtcNow() + _options.LeaseTtl;
                    _index.Add(allocation.Id, allocation.Hashes);
                }
                else if (reason is not null)
                {
                    allocation.State = KvAllocationState.Failed;
                }

                Unpin(allocation);
            }
        }

        if (reason is not null)
        {
            _metrics.Failed(reason);
            Log.TransferRejected(_logger, allocation.Handle, reason, detail!);
            return KvStoreResult<KvCommitResponse>.Fail(RejectionReason(reason), $"{reason}: {detail}");
        }

        if (allocation.Removed)
        {
            return KvStoreResult<KvCommitResponse>.Fail(KvTransferErrorReason.NotFound, $"allocation {allocation.Handle} was released during its commit");
        }

        Log.Committed(_logger, allocation.Handle, allocation.Size, allocation.Hashes.Count);
        return KvStoreResult<KvCommitResponse>.Ok(new KvCommitResponse(allocation.Handle, allocation.Size, allocation.Hashes.Count, allocation.ExpiresAt));
    }

    public KvLocation? Locate(Guid handle, string? requesterHost)
    {
        lock (_lock)
        {
            return _allocations.TryGetValue(handle, out var allocation) ? LocationOf(allocation, requesterHost) : null;
        }
    }

    /// <summary>Extends the lease by the TTL; null when the allocation is gone.</summary>
    public KvLocation? Renew(Guid handle, string? requesterHost)
    {
        lock (_lock)
        {
            if (!_allocations.TryGetValue(handle, out var allocation))
            {
                return null;
            }

            allocation.ExpiresAt = _time.GetUtcNow() + _options.LeaseTtl;
            return LocationOf(allocation, requesterHost);
        }
    }

    public bool Release(Guid handle)
    {
        lock (_lock)
        {
            if (!_allocations.TryGetValue(handle, out var allocation))
            {
                return false;
            }

            Remove(allocation);
            return true;
        }
    }

    /// <summary>The longest run of leading hashes held by committed payloads.</summary>
    public KvPrefixLocateResponse LocatePrefix(IReadOnlyList<string> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        var blocks = new List<KvPrefixBlock>();
        lock (_lock)
        {
            foreach (var hash in hashes)
            {
                if (!_index.TryFind(hash, out var handle, out var block)
                    || _allocations[handle].Request.Layout is not { } layout)
                {
                    break;
                }

                var header = layout.ToHeader();
                blocks.Add(new KvPrefixBlock(hash, KvHandle.Format(handle), block, KvPayloadHeader.Size + (block * header.BlockBytes), header.BlockBytes));
            }
        }

        _metrics.PrefixLookup(blocks.Count, hashes.Count - blocks.Count);
        return new KvPrefixLocateResponse(blocks.Count, blocks);
    }

    /// <summary>Frees every allocation whose lease has passed; returns how many.</summary>
    public int SweepExpired()
    {
        var now = _time.GetUtcNow();
        var expired = new List<Allocation>();
        lock (_lock)
        {
            foreach (var allocation in _allocations.Values)
            {
                if (allocation.ExpiresAt <= now)
                {
                    expired.Add(allocation);
                }
            }

            foreach (var allocation in expired)
            {
                Remove(allocation);
            }
        }

        foreach (var allocation in expired)
        {
            Log.LeaseExpired(_logger, allocation.Handle, allocation.Request.Requester, allocation.State.ToString());
        }

        if (expired.Count > 0)
        {
            _metrics.Expired(expired.Count);
        }

        return expired.Count;
    }

    private KvLocation LocationOf(Allocation allocation, string? requesterHost) =>
        new(allocation.Handle,
            allocation.State,
            allocation.Size,
            allocation.State == KvAllocationState.Committed ? KvChecksum.ToHex(allocation.Checksum) : null,
            allocation.Request.Layout,
            EndpointFor(allocation, requesterHost, preferred: null),
            allocation.ExpiresAt);

    /// <summary>Shared memory when kv-transfer has it and the peer runs on this host; the socket otherwise.</summary>
    private KvDataPlaneEndpoint EndpointFor(Allocation allocation, string? requesterHost, KvDataPlane? preferred)
    {
        var path = _staging.SharedMemoryPath;
        var shared = path is not null
            && preferred != KvDataPlane.Socket
            && string.Equals(requesterHost, _options.HostId, StringComparison.Ordinal);
        return shared
            ? new KvDataPlaneEndpoint(KvDataPlane.SharedMemory, path, allocation.Offset, _socketHost, _socketPort)
            : new KvDataPlaneEndpoint(KvDataPlane.Socket, null, 0, _socketHost, _socketPort);
    }

    // The methods below run under _lock.
    private Allocation? FindPinned(Guid handle) =>
        _allocations.TryGetValue(handle, out var live) ? live : _pinnedRemoved.GetValueOrDefault(handle);

    private void Remove(Allocation allocation)
    {
        _allocations.Remove(allocation.Id);
        if (allocation.State == KvAllocationState.Committed)
        {
            _index.Remove(allocation.Id, allocation.Hashes);
        }

        allocation.Removed = true;
        if (allocation.Pins == 0)
        {
            _allocator.Free(allocation.Offset, allocation.Reserved);
        }
        else
        {
            // A transfer still reads or writes the range; Unpin frees it.
            _pinnedRemoved[allocation.Id] = allocation;
        }

        PublishGauges();
    }

    private void Unpin(Allocation allocation)
    {
        Debug.Assert(allocation.Pins > 0, "unpin without pin");
        allocation.Pins--;
        if (allocation.Removed && allocation.Pins == 0 && _pinnedRemoved.Remove(allocation.Id))
        {
            _allocator.Free(allocation.Offset, allocation.Reserved);
            PublishGauges();
        }
    }

    private void PublishGauges() => _metrics.Staging(_allocator.BytesInUse, _allocator.Capacity, _allocations.Count);
}
