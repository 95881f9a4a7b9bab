using System.Collections.Immutable;

namespace MoeDapr.Engine.Eplb;

/// <summary>How evenly a placement spreads expert load over ranks.</summary>
public static class PlacementBalance
{
    /// <summary>
    /// Load per rank [ranks] for one layer: each slot carries its expert's load divided by the expert's replica count
    /// (tokens are spread evenly over replicas).
    /// </summary>
    public static double[] RankLoads(ReadOnlySpan<double> loads, LayerPlacement layer, int ranks)
    {
        ArgumentNullException.ThrowIfNull(layer);
        var slotsPerRank = layer.Phy2Log.Length / ranks;
        var rankLoads = new double[ranks];
        for (var slot = 0; slot < layer.Phy2Log.Length; slot++)
        {
            var expert = layer.Phy2Log[slot];
            rankLoads[slot / slotsPerRank] += loads[expert] / layer.LogicalCount[expert];
        }

        return rankLoads;
    }

    /// <summary>Mean over max of rank loads; 1 when no rank has load (nothing to balance).</summary>
    public static double Balancedness(ReadOnlySpan<double> rankLoads)
    {
        double sum = 0;
        double max = 0;
        foreach (var load in rankLoads)
        {
            sum += load;
            max = Math.Max(max, load);
        }

        return max <= 0 ? 1.0 : sum / rankLoads.Length / max;
    }

    /// <summary>Balancedness of <paramref name="placement"/> under <paramref name="loads"/>.</summary>
    public static BalancednessReport Of(ExpertLoadMatrix loads, ExpertPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(loads);
        ArgumentNullException.ThrowIfNull(placement);
        if (loads.Layers != placement.Layers.Length || loads.Experts != placement.Experts)
        {
            throw new EplbInputException(
                $"loads [{loads.Layers}, {loads.Experts}] do not match the placement [{placement.Layers.Length}, {placement.Experts}].");
        }

        var perLayer = new double[loads.Layers];
        for (var layer = 0; layer < loads.Layers; layer++)
        {
            perLayer[layer] = Balancedness(RankLoads(loads.Row(layer), placement.Layers[layer], placement.Ranks));
        }

        return new BalancednessReport(ImmutableArray.Create(perLayer), perLayer.Average());
    }

    /// <summary>
    /// Balancedness without a balancer: no replicas, experts split over ranks in contiguous runs (expert e on rank
    /// e · M / experts), the placement a model starts from.
    /// </summary>
    public static BalancednessReport OfIdentity(ExpertLoadMatrix loads, int ranks)
    {
        ArgumentNullException.ThrowIfNull(loads);
        if (ranks <= 0)
        {
            throw new EplbInputException($"ranks (M) must be positive (got {ranks}).");
        }

        var perLayer = new double[loads.Layers];
        var rankLoads = new double[ranks];
        for (var layer = 0; layer < loads.Layers; layer++)
        {
            Array.Clear(rankLoads);
            var row = loads.Row(layer);
            for (var expert = 0; expert < row.Length; expert++)
            {
                rankLoads[(int)((long)expert * ranks / row.Length)] += row[expert];
            }

            perLayer[layer] = Balancedness(rankLoads);
        }

        return new BalancednessReport(ImmutableArray.Create(perLayer), perLayer.Average());
    }
}
