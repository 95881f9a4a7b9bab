using MoeDapr.Engine.Eplb;

namespace MoeDapr.Engine.Tests.Eplb;

/// <summary>Checks that phy2log, log2phy and logcnt of a placement describe the same thing.</summary>
internal static class PlacementAssert
{
    public static void Consistent(ExpertPlacement placement, EplbTopology topology, int layers, int experts)
    {
        Assert.Equal(layers, placement.Layers.Length);
        Assert.Equal(experts, placement.Experts);
        Assert.Equal(topology.Replicas, placement.Replicas);
        Assert.Equal(topology.Ranks, placement.Ranks);

        var widest = 0;
        foreach (var layer in placement.Layers)
        {
            Assert.Equal(topology.Replicas, layer.Phy2Log.Length);
            Assert.Equal(experts, layer.LogicalCount.Length);
            Assert.Equal(experts, layer.Log2Phy.Length);
            Assert.Equal(topology.Replicas, layer.LogicalCount.Sum());

            var slotsPerRank = new int[topology.Ranks];
            for (var slot = 0; slot < layer.Phy2Log.Length; slot++)
            {
                slotsPerRank[placement.RankOfSlot(slot)]++;
                Assert.Contains(slot, layer.Log2Phy[layer.Phy2Log[slot]]);
            }

            Assert.All(slotsPerRank, count => Assert.Equal(topology.Replicas / topology.Ranks, count));

            for (var expert = 0; expert < experts; expert++)
            {
                var row = layer.Log2Phy[expert];
                var count = layer.LogicalCount[expert];
                Assert.True(count >= 1, $"expert {expert} has no slot");
                Assert.Equal(placement.MaxReplicas, row.Length);
                Assert.All(row.Take(count), slot => Assert.Equal(expert, layer.Phy2Log[slot]));
                Assert.All(row.Skip(count), slot => Assert.Equal(-1, slot));
                Assert.Equal(count, row.Distinct().Count(slot => slot >= 0));
                widest = Math.Max(widest, count);
            }
        }

        Assert.Equal(widest, placement.MaxReplicas);
    }
}
