using System.Collections.Concurrent;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>
/// What prefill and decode use to move KV bytes: control calls through <see cref="IKvTransferControl"/>
/// (Dapr invocation), bytes through shared memory or the socket plane, checksums on both ends.
/// <code>
/// await using var writer = await client.AllocateAsync(layout, prefixHashes, ct);   // producer
/// header.Write(writer.GetSpan(0, KvPayloadHeader.Size)); engine.Export(writer.Address + 64, ...);
/// var handle = (await writer.CommitAsync(ct)).Handle;
/// await using var reader = await client.OpenReadAsync(handle, ct);                   // consumer
/// engine.Import(reader.Header, reader.Address + 64, ...); await reader.ReleaseAsync(ct);
/// </code>
/// Thread-safe; keep one per process (it keeps the shared-memory file mapped between transfers).
/// </summary>
public sealed class KvTransferClient(IKvTransferControl control, KvTransferClientOptions options) : IDisposable
{
    /// <summary>Socket-plane buffers kept for reuse: a fresh buffer pays a page fault per 4 KiB on first touch.</summary>
    private const int PooledBuffers = 4;

    private readonly ConcurrentDictionary<string, Lazy<KvSharedMemoryFile>> _mappings = new(StringComparer.Ordinal);
    private readonly List<KvNativeBuffer> _pool = [];
    private bool _disposed;

    public IKvTransferControl Control => control;

    public KvTransferClientOptions Options => options;

    /// <summary>Reserves space for a payload of <paramref name="layout"/> and returns a writer over it.</summary>
    public Task<KvWriter> AllocateAsync(KvBlockLayout layout, IReadOnlyList<string>? prefixBlockHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(layout);
        return AllocateAsync(new KvAllocateRequest(layout.ToHeader().PayloadBytes, layout, prefixBlockHashes, options.Requester), cancellationToken);
    }

    /// <summary>Reserves space as described by <paramref name="request"/> (host and plane preference filled in from options).</summary>
    public async Task<KvWriter> AllocateAsync(KvAllocateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request = request with
        {
            RequesterHost = request.RequesterHost ?? options.HostId,
            PreferredPlane = request.PreferredPlane ?? (options.UseSharedMemory ? null : KvDataPlane.Socket),
        };
        var allocation = await control.AllocateAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            return allocation.Endpoint.Plane == KvDataPlane.SharedMemory
                ? KvWriter.ForSharedMemory(this, allocation, Map(allocation.Endpoint))
                : KvWriter.ForSocket(this, allocation);
        }
        catch
        {
            await control.ReleaseAsync(allocation.Handle, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Opens a committed payload for reading: renews its lease, maps it (shared memory) or pulls it (socket),
    /// validates its header and, unless <paramref name="verify"/> is false, its checksum.
    /// A reader that skips verification must call <see cref="KvReader.CopyTo"/> (which verifies) or <see cref="KvReader.Verify"/>.
    /// </summary>
    public async Task<KvReader> OpenReadAsync(string handle, CancellationToken cancellationToken, bool verify = true)
    {
        var location = await control.RenewAsync(handle, new KvRenewRequest(options.UseSharedMemory ? options.HostId : null), cancellationToken).ConfigureAwait(false);
        if (location.State != KvAllocationState.Committed)
        {
            throw new KvTransferException(KvTransferErrorReason.NotCommitted, $"KV payload {handle} is {location.State}, not committed");
        }

        return location.Endpoint.Plane == KvDataPlane.SharedMemory
            ? KvReader.FromSharedMemory(this, location, Map(location.Endpoint), verify)
            : await KvReader.PullAsync(this, location, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Frees a payload in kv-transfer (consumers call it once the KV is imported).</summary>
    public Task<bool> ReleaseAsync(string handle, CancellationToken cancellationToken) => control.ReleaseAsync(handle, cancellationToken);

    /// <summary>Which leading prefix blocks kv-transfer already holds.</summary>
    public Task<KvPrefixLocateResponse> LocatePrefixAsync(IReadOnlyList<string> prefixBlockHashes, CancellationToken cancellationToken) =>
        control.LocatePrefixAsync(new KvPrefixLocateRequest(prefixBlockHashes, options.HostId), cancellationToken);

    private KvSharedMemoryFile Map(KvDataPlaneEndpoint endpoint)
    {
        var path = endpoint.SharedMemoryPath ?? throw new KvTransferException(KvTransferErrorReason.Protocol, "kv-transfer chose shared memory but sent no file path");
        var lazy = _mappings.GetOrAdd(path, p => new Lazy<KvSharedMemoryFile>(() =>
        {
            var mapping = KvSharedMemoryFile.Open(p);
            mapping.Prefault();
            return mapping;
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _mappings.TryRemove(new KeyValuePair<string, Lazy<KvSharedMemoryFile>>(path, lazy));
            throw;
        }
    }

    /// <summary>A page-aligned buffer of at least <paramref name="length"/> bytes (at most twice that), reused when one is pooled.</summary>
    internal KvNativeBuffer RentBuffer(long length)
    {
        lock (_pool)
        {
            var index = _pool.FindIndex(b => b.Length >= length && b.Length <= 2 * length);
            if (index >= 0)
            {
                var buffer = _pool[index];
                _pool.RemoveAt(index);
                return buffer;
            }
        }

        return new KvNativeBuffer(length);
    }

    /// <summary>Keeps up to <see cref="PooledBuffers"/> buffers, largest first; frees the rest.</summary>
    internal void ReturnBuffer(KvNativeBuffer buffer)
    {
        lock (_pool)
        {
            if (_disposed)
            {
                buffer.Dispose();
                return;
            }

            _pool.Add(buffer);
            _pool.Sort((a, b) => b.Length.CompareTo(a.Length));
            if (_pool.Count <= PooledBuffers)
            {
                return;
            }

            buffer = _pool[^1];
            _pool.RemoveAt(_pool.Count - 1);
        }

        buffer.Dispose();
    }

    public void Dispose()
    {
        lock (_pool)
        {
            _disposed = true;
            _pool.ForEach(b => b.Dispose());
            _pool.Clear();
        }

        foreach (var mapping in _mappings.Values)
        {
            if (mapping.IsValueCreated)
            {
                mapping.Value.Dispose();
            }
        }

        _mappings.Clear();
    }
}
