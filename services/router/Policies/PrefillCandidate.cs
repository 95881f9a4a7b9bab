namespace MoeDapr.Router.Policies;

/// <summary>A prefill worker able to take a batch: its queued load in blocks and the batch's blocks it already holds.</summary>
public sealed record PrefillCandidate(string AppId, double LoadBlocks, int OverlapBlocks);
