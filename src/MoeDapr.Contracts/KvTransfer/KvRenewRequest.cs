namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Extends a lease. <c>POST kv/allocations/{handle}/renew</c>; answers a <see cref="KvLocation"/>.</summary>
public sealed record KvRenewRequest(string? RequesterHost = null);
