using System.IO.Hashing;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>
/// The consumer's side of a committed payload: <see cref="Length"/> bytes at <see cref="Address"/> — kv-transfer's
/// shared memory itself (no copy) or a local buffer the socket plane filled (verified as it arrived).
/// The engine imports straight from <see cref="Address"/> (after <see cref="Verify"/>) or through <see cref="CopyTo"/>.
/// </summary>
public sealed class KvReader : IAsyncDisposable
{
    private readonly KvTransferClient _client;
    private KvNativeBuffer? _localBuffer;
    private readonly nint _address;
    private readonly ulong _checksum;
    private bool _verified;

    private unsafe KvReader(KvTransferClient client, KvLocation location, nint address, KvNativeBuffer? localBuffer, bool verified)
    {
        _client = client;
        Location = location;
        _address = address;
        _localBuffer = localBuffer;
        _verified = verified;
        if (!KvChecksum.TryParseHex(location.Checksum, out _checksum))
        {
            throw new KvTransferException(KvTransferErrorReason.Protocol, $"kv-transfer sent no valid checksum for {location.Handle}");
        }

        Header = KvPayloadHeader.Read(new ReadOnlySpan<byte>((byte*)address, (int)Math.Min(Length, KvPayloadHeader.Size)));
        if (Header.PayloadBytes > Length)
        {
            throw new KvTransferException(KvTransferErrorReason.LengthMismatch, $"KV payload {location.Handle} holds {Length} bytes but its header needs {Header.PayloadBytes}");
        }
    }

    public KvLocation Location { get; }

    public string Handle => Location.Handle;

    public KvDataPlane Plane => Location.Endpoint.Plane;

    public long Length => Location.SizeBytes;

    /// <summary>The validated payload header.</summary>
    public KvPayloadHeader Header { get; }

    public nint Address => _address;

    /// <summary>A read-only window into the payload.</summary>
    public unsafe ReadOnlySpan<byte> GetSpan(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) lies outside the {Length}-byte payload");
        }

        return new ReadOnlySpan<byte>((byte*)_address + offset, length);
    }

    /// <summary>Re-hashes the payload; throws a <see cref="KvTransferException"/> (<see cref="KvTransferErrorReason.ChecksumMismatch"/>) if it is not what was committed.</summary>
    public void Verify()
    {
        if (_verified)
        {
            return;
        }

        var actual = KvChecksum.Compute(_address, Length);
        if (actual != _checksum)
        {
            throw new KvTransferException(KvTransferErrorReason.ChecksumMismatch, $"KV payload {Handle} failed its checksum on read ({KvChecksum.ToHex(actual)} != {KvChecksum.ToHex(_checksum)})");
        }

        _verified = true;
    }

    /// <summary>Copies the whole payload to <paramref name="destination"/>, verifying it in the same pass.</summary>
    public unsafe void CopyTo(nint destination, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, Length);
        if (_verified)
        {
            Buffer.MemoryCopy((void*)_address, (void*)destination, capacity, Length);
            return;
        }

        var hasher = new XxHash3();
        KvChecksum.CopyAndHash((byte*)_address, (byte*)destination, Length, hasher);
        var actual = hasher.GetCurrentHashAsUInt64();
        if (actual != _checksum)
        {
            throw new KvTransferException(KvTransferErrorReason.ChecksumMismatch, $"KV payload {Handle} failed its checksum on read ({KvChecksum.ToHex(actual)} != {KvChecksum.ToHex(_checksum)})");
        }

        _verified = true;
    }

    /// <summary>Frees the payload in kv-transfer; call once the KV is imported.</summary>
    public Task<bool> ReleaseAsync(CancellationToken cancellationToken) => _client.ReleaseAsync(Handle, cancellationToken);

    public ValueTask DisposeAsync()
    {
        var buffer = Interlocked.Exchange(ref _localBuffer, null);
        if (buffer is not null)
        {
            _client.ReturnBuffer(buffer);
        }

        return ValueTask.CompletedTask;
    }

    internal static KvReader FromSharedMemory(KvTransferClient client, KvLocation location, KvSharedMemoryFile mapping, bool verify)
    {
        var reader = new KvReader(client, location, mapping.AddressOf(location.Endpoint.SharedMemoryOffset, location.SizeBytes), null, verified: false);
        if (verify)
        {
            reader.Verify();
        }

        return reader;
    }

    internal static async Task<KvReader> PullAsync(KvTransferClient client, KvLocation location, CancellationToken cancellationToken)
    {
        if (!KvHandle.TryParse(location.Handle, out var handle))
        {
            throw new KvTransferException(KvTransferErrorReason.Protocol, $"malformed handle '{location.Handle}'");
        }

        var buffer = client.RentBuffer(location.SizeBytes);
        try
        {
            // PullAsync hashes as bytes arrive and throws on a short or corrupted stream.
            var (length, checksum) = await KvSocketClient.PullAsync(location.Endpoint.SocketHost, location.Endpoint.SocketPort, handle, buffer.Address, buffer.Length, cancellationToken).ConfigureAwait(false);
            if (length != location.SizeBytes || KvChecksum.ToHex(checksum) != location.Checksum)
            {
                throw new KvTransferException(length == location.SizeBytes ? KvTransferErrorReason.ChecksumMismatch : KvTransferErrorReason.LengthMismatch, $"pull of {location.Handle} does not match its committed size and checksum");
            }

            return new KvReader(client, location, buffer.Address, buffer, verified: true);
        }
        catch
        {
            client.ReturnBuffer(buffer);
            throw;
        }
    }
}
