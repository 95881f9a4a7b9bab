namespace MoeDapr.Decode.Eplb;

/// <summary>A placement proposed for every MoE layer, with the balancedness of the current and the proposed placement.</summary>
public sealed record Proposal(int[][] Phy2Log, double Before, double After);
