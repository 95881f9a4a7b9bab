namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Answer to a successful commit.</summary>
public sealed record KvCommitResponse(string Handle, long SizeBytes, int IndexedBlocks, DateTimeOffset LeaseExpiresAt);
