using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>The control API of kv-transfer (allocate, commit, locate, renew, release); transport-agnostic.</summary>
public interface IKvTransferControl
{
    Task<KvAllocateResponse> AllocateAsync(KvAllocateRequest request, CancellationToken cancellationToken);

    Task<KvCommitResponse> CommitAsync(string handle, KvCommitRequest request, CancellationToken cancellationToken);

    /// <summary>The allocation's state and where <paramref name="requesterHost"/> reads it; null when unknown (released or expired).</summary>
    Task<KvLocation?> LocateAsync(string handle, string? requesterHost, CancellationToken cancellationToken);

    Task<KvPrefixLocateResponse> LocatePrefixAsync(KvPrefixLocateRequest request, CancellationToken cancellationToken);

    /// <summary>Extends the lease by the configured TTL and answers where to read.</summary>
    Task<KvLocation> RenewAsync(string handle, KvRenewRequest request, CancellationToken cancellationToken);

    /// <summary>Frees the allocation; false when it was already gone.</summary>
    Task<bool> ReleaseAsync(string handle, CancellationToken cancellationToken);
}
