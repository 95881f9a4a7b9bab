namespace MoeDapr.Contracts.KvTransfer;

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
