namespace MoeDapr.Engine.Eplb;

/// <summary>
/// The hardware an expert placement targets: <see cref="Replicas"/> physical expert slots (R) per layer spread evenly
/// over <see cref="Ranks"/> EP ranks (M, GPUs) on <see cref="Nodes"/> nodes (N); logical experts form
/// <see cref="Groups"/> groups (G) whose members prefer to share a node (DeepSeek's group-limited routing).
/// </summary>
public sealed record EplbTopology(int Replicas, int Groups, int Nodes, int Ranks)
{
    /// <summary>Physical expert slots per rank (R / M); slot s lives on rank s / SlotsPerRank.</summary>
    public int SlotsPerRank => Replicas / Ranks;

    /// <summary>
    /// Several nodes and groups that divide evenly over them (G % N == 0): the hierarchical policy applies. On one node
    /// the two policies place experts identically, and that is reported as global.
    /// </summary>
    public bool IsHierarchical => Nodes > 1 && Groups % Nodes == 0;

    /// <summary>Throws <see cref="EplbInputException"/> naming the first rule this topology breaks for the given expert count.</summary>
    public void Validate(int experts)
    {
        Require(Replicas > 0, $"replicas (R) must be positive (got {Replicas}).");
        Require(Groups > 0, $"groups (G) must be positive (got {Groups}).");
        Require(Nodes > 0, $"nodes (N) must be positive (got {Nodes}).");
        Require(Ranks > 0, $"ranks (M) must be positive (got {Ranks}).");
        Require(experts > 0, $"experts must be positive (got {experts}).");
        Require(Replicas % Ranks == 0, $"R % M == 0: replicas (R = {Replicas}) must be a multiple of ranks (M = {Ranks}).");
        Require(Replicas >= experts, $"R >= experts: replicas (R = {Replicas}) must be at least the number of experts ({experts}), every expert needs a slot.");
        Require(experts % Groups == 0, $"experts % G == 0: experts ({experts}) must be a multiple of groups (G = {Groups}).");
        Require(Ranks % Nodes == 0, $"M % N == 0: ranks (M = {Ranks}) must be a multiple of nodes (N = {Nodes}).");
    }

    private static void Require(bool rule, string message)
    {
        if (!rule)
        {
            throw new EplbInputException(message);
        }
    }
}
