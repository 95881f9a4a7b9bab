namespace MoeDapr.Contracts.KvTransfer;

/// <summary>One committed block that matches a prefix hash.</summary>
/// <param name="BlockIndex">Index of the block inside that payload.</param>
/// <param name="Offset">Byte offset of the block inside that payload (header included).</param>
/// <param name="Length">Block bytes (<see cref="KvPayloadHeader.BlockBytes"/>).</param>
public sealed record KvPrefixBlock(string Hash, string Handle, int BlockIndex, long Offset, long Length);
