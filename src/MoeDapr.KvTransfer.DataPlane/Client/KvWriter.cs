using System.IO.Hashing;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>
/// The producer's side of one allocation: <see cref="Length"/> bytes at <see cref="Address"/>, which is
/// kv-transfer's shared memory itself (shared-memory plane) or a local page-aligned buffer pushed on commit
/// (socket plane). Write the payload with <see cref="Write"/> (sequential, hashed as it goes) or straight
/// through <see cref="GetSpan"/>/<see cref="Address"/> (hashed at commit), then <see cref="CommitAsync"/>.
/// Disposing an uncommitted writer releases the allocation.
/// </summary>
public sealed class KvWriter : IAsyncDisposable
{
    private readonly KvTransferClient _client;
    private KvNativeBuffer? _localBuffer;
    private readonly nint _address;
    private readonly XxHash3 _hasher = new();
    private long _sequentialPosition;
    private bool _rawWrites;
    private bool _finished;

    private KvWriter(KvTransferClient client, KvAllocateResponse allocation, nint address, KvNativeBuffer? localBuffer)
    {
        _client = client;
        Allocation = allocation;
        _address = address;
        _localBuffer = localBuffer;
    }

    public KvAllocateResponse Allocation { get; }

    public string Handle => Allocation.Handle;

    public KvDataPlane Plane => Allocation.Endpoint.Plane;

    public long Length => Allocation.SizeBytes;

    /// <summary>Start of the writable bytes, for an engine that exports KV straight into them.</summary>
    public nint Address
    {
        get
        {
            _rawWrites = true;
            return _address;
        }
    }

    /// <summary>A writable window; bytes written through it are hashed at commit.</summary>
    public unsafe Span<byte> GetSpan(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) lies outside the {Length}-byte allocation");
        }

        _rawWrites = true;
        return new Span<byte>((byte*)_address + offset, length);
    }

    /// <summary>Appends bytes after the previous <see cref="Write"/>, hashing each chunk while it is in cache.</summary>
    public unsafe void Write(ReadOnlySpan<byte> source)
    {
        if (source.Length > Length - _sequentialPosition)
        {
            throw new ArgumentException($"writing {source.Length} bytes at {_sequentialPosition} overruns the {Length}-byte allocation", nameof(source));
        }

        fixed (byte* from = source)
        {
            KvChecksum.CopyAndHash(from, (byte*)_address + _sequentialPosition, source.Length, _hasher);
        }

        _sequentialPosition += source.Length;
    }

    /// <summary>
    /// Seals the payload. <paramref name="bytesWritten"/> defaults to the sequential write position, or the
    /// whole allocation when the payload was written through <see cref="Address"/>/<see cref="GetSpan"/>.
    /// kv-transfer re-checks length and checksum; a mismatch throws and the payload is never served.
    /// </summary>
    public async Task<KvCommitResponse> CommitAsync(CancellationToken cancellationToken, long? bytesWritten = null)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        var written = bytesWritten ?? (_rawWrites ? Length : _sequentialPosition);
        if (written < 0 || written > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(bytesWritten), $"{written} bytes do not fit the {Length}-byte allocation");
        }

        var checksum = !_rawWrites && written == _sequentialPosition
            ? _hasher.GetCurrentHashAsUInt64()
            : KvChecksum.Compute(_address, written);
        if (Plane == KvDataPlane.Socket)
        {
            var endpoint = Allocation.Endpoint;
            if (!KvHandle.TryParse(Handle, out var handle))
            {
                throw new KvTransferException(KvTransferErrorReason.Protocol, $"kv-transfer sent a malformed handle '{Handle}'");
            }

            await KvSocketClient.PushAsync(endpoint.SocketHost, endpoint.SocketPort, handle, _address, written, checksum, cancellationToken).ConfigureAwait(false);
        }

        var committed = await _client.Control.CommitAsync(Handle, new KvCommitRequest(written, KvChecksum.ToHex(checksum)), cancellationToken).ConfigureAwait(false);
        _finished = true;
        ReturnLocalBuffer();
        return committed;
    }

    public async ValueTask DisposeAsync()
    {
        ReturnLocalBuffer();
        if (!_finished)
        {
            _finished = true;
            try
            {
                await _client.Control.ReleaseAsync(Handle, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is KvTransferException or HttpRequestException)
            {
                // The lease frees the allocation anyway.
            }
        }
    }

    private void ReturnLocalBuffer()
    {
        var buffer = Interlocked.Exchange(ref _localBuffer, null);
        if (buffer is not null)
        {
            _client.ReturnBuffer(buffer);
        }
    }

    internal static KvWriter ForSharedMemory(KvTransferClient client, KvAllocateResponse allocation, KvSharedMemoryFile mapping) =>
        new(client, allocation, mapping.AddressOf(allocation.Endpoint.SharedMemoryOffset, allocation.SizeBytes), null);

    internal static KvWriter ForSocket(KvTransferClient client, KvAllocateResponse allocation)
    {
        var buffer = client.RentBuffer(allocation.SizeBytes);
        return new KvWriter(client, allocation, buffer.Address, buffer);
    }
}
