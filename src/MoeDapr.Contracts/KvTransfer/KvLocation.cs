namespace MoeDapr.Contracts.KvTransfer;

/// <summary>What kv-transfer knows of one allocation. <c>GET kv/allocations/{handle}?requesterHost=</c>.</summary>
public sealed record KvLocation(
    string Handle,
    KvAllocationState State,
    long SizeBytes,
    string? Checksum,
    KvBlockLayout? Layout,
    KvDataPlaneEndpoint Endpoint,
    DateTimeOffset LeaseExpiresAt);
