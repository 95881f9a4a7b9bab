namespace MoeDapr.Contracts.Eplb;

/// <summary>
/// A placement of every MoE layer's experts on physical slots, decided by the coordinator actor and published on
/// <see cref="EplbTopics.Plans"/>. Slot s lives on rank s / (<see cref="Slots"/> / <see cref="Ranks"/>).
/// </summary>
public sealed record ExpertPlacementPlan
{
    public required string Model { get; init; }

    /// <summary>Counts up from 1 per model; a replica applies a plan only when it is newer than the one it serves with.</summary>
    public required long Version { get; init; }

    public required long CreatedUnixMs { get; init; }

    /// <summary>Placement policy that produced the plan (<c>Eplb:Algorithm</c>).</summary>
    public required string Algorithm { get; init; }

    public required int Ranks { get; init; }

    public required int Slots { get; init; }

    public required int Experts { get; init; }

    /// <summary>Model layer index of each row of <see cref="Phy2Log"/>.</summary>
    public required IReadOnlyList<int> Layers { get; init; }

    /// <summary>[moe layers][slots]: the logical expert each physical slot holds.</summary>
    public required IReadOnlyList<int[]> Phy2Log { get; init; }

    /// <summary>Balancedness (mean / max rank load, averaged over layers) of the previous placement under the loads the plan was made from.</summary>
    public double BalancednessBefore { get; init; }

    /// <summary>Balancedness of this plan under the same loads.</summary>
    public double BalancednessAfter { get; init; }

    /// <summary>Per MoE layer, each logical expert's share of the layer's load the plan was made from (for the move log).</summary>
    public IReadOnlyList<double[]>? LoadShares { get; init; }

    /// <summary>Why the coordinator decided: <c>frequency</c> (every <c>Eplb:RebalanceFrequency</c> steps) or <c>threshold</c>.</summary>
    public string? Reason { get; init; }
}
