namespace MoeDapr.KvTransfer.DataPlane.Server;

/// <summary>Native staging bytes the socket server reads from or writes into.</summary>
public readonly record struct KvStagingRange(nint Address, long Length);
