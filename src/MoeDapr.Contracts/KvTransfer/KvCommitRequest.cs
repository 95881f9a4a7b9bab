namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Seals an allocation. <c>POST kv/allocations/{handle}/commit</c>.</summary>
/// <param name="BytesWritten">Bytes the producer wrote; anything but the allocation size fails the commit.</param>
/// <param name="Checksum">XXH3-64 of the payload as 16 hex digits (<c>KvChecksum</c> in the data-plane library).</param>
public sealed record KvCommitRequest(long BytesWritten, string Checksum);
