namespace MoeDapr.Contracts.KvTransfer;

/// <summary>The longest run of leading prefix blocks found committed; <c>MatchedBlocks</c> = <c>Blocks.Count</c>.</summary>
public sealed record KvPrefixLocateResponse(int MatchedBlocks, IReadOnlyList<KvPrefixBlock> Blocks);
