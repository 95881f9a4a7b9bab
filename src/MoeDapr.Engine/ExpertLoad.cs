namespace MoeDapr.Engine;

/// <summary>Token counts of one MoE layer since load, and its current placement.</summary>
/// <param name="ExpertTokens">Per logical expert: top-k assignments routed to it.</param>
/// <param name="RankTokens">Per EP rank: assignments it computed.</param>
/// <param name="Phy2Log">Logical expert of each physical slot.</param>
public sealed record ExpertLoad(int Layer, long[] ExpertTokens, long[] RankTokens, int[] Phy2Log);
