using System.Text.Json.Serialization;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>How KV bytes move between a service and kv-transfer's staging memory.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KvDataPlane>))]
public enum KvDataPlane
{
    /// <summary>Same host: both sides map kv-transfer's staging file under /dev/shm.</summary>
    SharedMemory,

    /// <summary>Any host: framed TCP push/pull against kv-transfer's data-plane port.</summary>
    Socket,
}

/// <summary>Where an allocation is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KvAllocationState>))]
public enum KvAllocationState
{
    /// <summary>Space reserved; the producer is writing.</summary>
    Allocated,

    /// <summary>Bytes verified against their checksum; readable.</summary>
    Committed,

    /// <summary>A transfer was short or corrupted; the bytes must never be used.</summary>
    Failed,
}

/// <summary>Shape of a KV payload, the fields of <see cref="KvPayloadHeader"/> in JSON form.</summary>
public sealed record KvBlockLayout(KvDtype Dtype, int Layers, int KvHeads, int HeadDim, int BlockSize, int Tokens)
{
    public KvPayloadHeader ToHeader() => new(Dtype, Layers, KvHeads, HeadDim, BlockSize, Tokens);

    public static KvBlockLayout FromHeader(KvPayloadHeader header) =>
        new(header.Dtype, header.Layers, header.KvHeads, header.HeadDim, header.BlockSize, header.Tokens);
}

/// <summary>Asks kv-transfer for staging space. <c>POST kv/allocations</c>.</summary>
/// <param name="SizeBytes">Payload bytes including the 64-byte header; must equal the layout's payload size when a layout is given.</param>
/// <param name="Layout">Block layout of the payload; required when <paramref name="PrefixBlockHashes"/> is given.</param>
/// <param name="PrefixBlockHashes">PrefixBlockHash hex strings (32 hex digits) of the payload's leading full blocks, in order.</param>
/// <param name="Requester">Who asks (app id and instance), for logs and lease diagnostics.</param>
/// <param name="RequesterHost">Host identity of the writer; equal to kv-transfer's host id means shared memory is usable.</param>
/// <param name="PreferredPlane">Force a plane (e.g. Socket for a test); null lets kv-transfer choose.</param>
public sealed record KvAllocateRequest(
    long SizeBytes,
    KvBlockLayout? Layout,
    IReadOnlyList<string>? PrefixBlockHashes,
    string Requester,
    string? RequesterHost = null,
    KvDataPlane? PreferredPlane = null);

/// <summary>Where one side reads or writes an allocation's bytes.</summary>
/// <param name="Plane">The plane this side must use.</param>
/// <param name="SharedMemoryPath">Staging file to map (shared-memory plane only).</param>
/// <param name="SharedMemoryOffset">Byte offset of the payload in that file (page aligned).</param>
/// <param name="SocketHost">Data-plane host (always set: any side may fall back to the socket).</param>
/// <param name="SocketPort">Data-plane TCP port.</param>
public sealed record KvDataPlaneEndpoint(
    KvDataPlane Plane,
    string? SharedMemoryPath,
    long SharedMemoryOffset,
    string SocketHost,
    int SocketPort);

/// <summary>Answer to an allocation: a handle and where to write.</summary>
public sealed record KvAllocateResponse(
    string Handle,
    long SizeBytes,
    KvDataPlaneEndpoint Endpoint,
    DateTimeOffset LeaseExpiresAt);

/// <summary>Seals an allocation. <c>POST kv/allocations/{handle}/commit</c>.</summary>
/// <param name="BytesWritten">Bytes the producer wrote; anything but the allocation size fails the commit.</param>
/// <param name="Checksum">XXH3-64 of the payload as 16 hex digits (<see cref="KvChecksum"/>).</param>
public sealed record KvCommitRequest(long BytesWritten, string Checksum);

/// <summary>Answer to a successful commit.</summary>
public sealed record KvCommitResponse(string Handle, long SizeBytes, int IndexedBlocks, DateTimeOffset LeaseExpiresAt);

/// <summary>What kv-transfer knows of one allocation. <c>GET kv/allocations/{handle}?requesterHost=</c>.</summary>
public sealed record KvLocation(
    string Handle,
    KvAllocationState State,
    long SizeBytes,
    string? Checksum,
    KvBlockLayout? Layout,
    KvDataPlaneEndpoint Endpoint,
    DateTimeOffset LeaseExpiresAt);

/// <summary>Asks which leading blocks of a prefix are already committed. <c>POST kv/prefix/locate</c>.</summary>
public sealed record KvPrefixLocateRequest(IReadOnlyList<string> PrefixBlockHashes, string? RequesterHost = null);

/// <summary>One committed block that matches a prefix hash.</summary>
/// <param name="BlockIndex">Index of the block inside that payload.</param>
/// <param name="Offset">Byte offset of the block inside that payload (header included).</param>
/// <param name="Length">Block bytes (<see cref="KvPayloadHeader.BlockBytes"/>).</param>
public sealed record KvPrefixBlock(string Hash, string Handle, int BlockIndex, long Offset, long Length);

/// <summary>The longest run of leading prefix blocks found committed; <c>MatchedBlocks</c> = <c>Blocks.Count</c>.</summary>
public sealed record KvPrefixLocateResponse(int MatchedBlocks, IReadOnlyList<KvPrefixBlock> Blocks);

/// <summary>Extends a lease. <c>POST kv/allocations/{handle}/renew</c>; answers a <see cref="KvLocation"/>.</summary>
public sealed record KvRenewRequest(string? RequesterHost = null);

/// <summary>Routes of the control API, relative to the app (prefix with the sidecar's invoke URL).</summary>
public static class KvTransferRoutes
{
    public const string AppId = "kv-transfer";
    public const string Allocations = "kv/allocations";
    public const string PrefixLocate = "kv/prefix/locate";

    public static string Allocation(string handle) => $"{Allocations}/{Uri.EscapeDataString(handle)}";

    public static string Commit(string handle) => $"{Allocation(handle)}/commit";

    public static string Renew(string handle) => $"{Allocation(handle)}/renew";
}
