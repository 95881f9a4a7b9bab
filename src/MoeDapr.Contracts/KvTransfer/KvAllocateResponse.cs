namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Answer to an allocation: a handle and where to write.</summary>
public sealed record KvAllocateResponse(
    string Handle,
    long SizeBytes,
    KvDataPlaneEndpoint Endpoint,
    DateTimeOffset LeaseExpiresAt);
