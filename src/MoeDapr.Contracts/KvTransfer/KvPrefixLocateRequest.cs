namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Asks which leading blocks of a prefix are already committed. <c>POST kv/prefix/locate</c>.</summary>
public sealed record KvPrefixLocateRequest(IReadOnlyList<string> PrefixBlockHashes, string? RequesterHost = null);
