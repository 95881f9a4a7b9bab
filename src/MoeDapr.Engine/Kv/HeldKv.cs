namespace MoeDapr.Engine.Kv;

/// <summary>The KV under one handle: the tokens it covers, their blocks and the prefix hashes of the full ones.</summary>
internal sealed record HeldKv(int[] Tokens, List<int> Blocks, List<UInt128> Hashes, DateTimeOffset Expires);
