namespace MoeDapr.Engine;

/// <summary>
/// KV blocks one engine holds for a sequence between prefill (or import) and decode, or export: engine-local, unlike the
/// kv-transfer handles (<c>Contracts.KvTransfer.KvHandle</c>) that name a payload in transit between services.
/// </summary>
/// <param name="Id">Id within the engine that issued it.</param>
/// <param name="Tokens">Tokens whose keys and values the blocks hold.</param>
public sealed record EngineKvHandle(long Id, int Tokens);
