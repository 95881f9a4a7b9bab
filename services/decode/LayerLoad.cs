namespace MoeDapr.Decode;

/// <summary>Token counts of one MoE layer since start.</summary>
public sealed record LayerLoad(int Layer, long[] ExpertTokens, long[] RankTokens);
