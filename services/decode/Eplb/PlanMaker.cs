using MoeDapr.Engine.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>The coordinator's arithmetic: the placement a replica starts from, how balanced a placement is, and a proposal.</summary>
public static class PlanMaker
{
    /// <summary>The engine's initial placement: slot s holds expert s % experts (redundant slots replicate the first experts).</summary>
    public static int[] InitialPhy2Log(int slots, int experts) => Enumerable.Range(0, slots).Select(s => s % experts).ToArray();

    /// <summary>Mean over MoE layers of mean / max rank load, for <paramref name="phy2Log"/> [layers][slots] under <paramref name="loads"/> [layers][experts].</summary>
    public static double Balancedness(IReadOnlyList<double[]> loads, IReadOnlyList<int[]> phy2Log, int ranks, int experts)
    {
        ArgumentNullException.ThrowIfNull(loads);
        ArgumentNullException.ThrowIfNull(phy2Log);
        var placement = ExpertPlacement.FromPhy2Log(ranks, experts, phy2Log);
        return PlacementBalance.Of(ExpertLoadMatrix.FromRows(loads), placement).Mean;
    }

    /// <summary>
    /// Asks <paramref name="policy"/> for a placement of <paramref name="loads"/> and scores it against
    /// <paramref name="current"/> under the same loads.
    /// </summary>
    public static Proposal Propose(IReadOnlyList<double[]> loads, IReadOnlyList<int[]> current, EplbTopology topology, IExpertPlacementPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(loads);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(policy);
        var matrix = ExpertLoadMatrix.FromRows(loads);
        var placement = policy.Place(matrix, topology);
        var before = PlacementBalance.Of(matrix, ExpertPlacement.FromPhy2Log(topology.Ranks, matrix.Experts, current)).Mean;
        var after = PlacementBalance.Of(matrix, placement).Mean;
        var phy2Log = placement.Layers.Select((l, i) => PlacementMoves.KeepInPlace(current[i], [.. l.Phy2Log], topology.Ranks)).ToArray();
        return new Proposal(phy2Log, before, after);
    }

    /// <summary>Each expert's share of its layer's load [layers][experts].</summary>
    public static double[][] Shares(IReadOnlyList<double[]> loads) =>
        loads.Select(row =>
        {
            var total = row.Sum();
            return row.Select(x => total > 0 ? x / total : 0).ToArray();
        }).ToArray();
}
