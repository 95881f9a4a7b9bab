namespace MoeDapr.Engine.Modeling;

/// <summary>
/// Token assignments one MoE layer computed since load, per logical expert and per EP rank: what expert telemetry
/// and the load balancer read. Counted on the engine thread; readers get copies.
/// </summary>
internal sealed class ExpertLoadCounters(int experts, int ranks)
{
    private readonly long[] _expertTokens = new long[experts];
    private readonly long[] _rankTokens = new long[ranks];

    /// <summary>Tokens routed to each logical expert (top-k assignments, not distinct tokens).</summary>
    public long[] ExpertTokens => (long[])_expertTokens.Clone();

    /// <summary>Token assignments each rank computed.</summary>
    public long[] RankTokens => (long[])_rankTokens.Clone();

    public void AddExpert(int expert, long assignments) => _expertTokens[expert] += assignments;

    public void AddRank(int rank, long assignments) => _rankTokens[rank] += assignments;
}
