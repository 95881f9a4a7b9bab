namespace MoeDapr.Engine;

/// <summary>
/// The result of prefilling one prompt: its first token, the seed its draws use (pass it on to the decode
/// side), and a handle to its KV (null when the first token already finished the sequence).
/// </summary>
public sealed record PrefillResult(string RequestId, TokenOutput FirstToken, long Seed, EngineKvHandle? Kv, int CachedTokens = 0);
