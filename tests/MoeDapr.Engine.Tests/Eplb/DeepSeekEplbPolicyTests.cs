using MoeDapr.Engine.Eplb;

namespace MoeDapr.Engine.Tests.Eplb;

public sealed class DeepSeekEplbPolicyTests
{
    private readonly DeepSeekEplbPolicy _policy = new();

    [Fact]
    public void Name_IsDeepseek()
    {
        Assert.Equal("deepseek", _policy.Name);
    }

    [Fact]
    public void Place_GroupsDivideOverNodes_KeepsEachGroupOnOneNode()
    {
        // Groups {0,1} and {2,3}; hierarchical packing keeps the two hot experts of group 0 together on node 0
        // even though splitting them would balance better.
        var loads = Loads([10, 10, 1, 1]);
        var topology = new EplbTopology(Replicas: 4, Groups: 2, Nodes: 2, Ranks: 2);

        var placement = _policy.Place(loads, topology);

        Assert.True(topology.IsHierarchical);
        Assert.Equal([0, 1, 2, 3], placement.Layers[0].Phy2Log.ToArray());
        PlacementAssert.Consistent(placement, topology, layers: 1, experts: 4);
    }

    [Fact]
    public void Place_GroupsDoNotDivideOverNodes_FallsBackToGlobalPacking()
    {
        // One group over two nodes (1 % 2 != 0): global policy, which splits the hot pair over the ranks.
        var loads = Loads([10, 10, 1, 1]);
        var topology = new EplbTopology(Replicas: 4, Groups: 1, Nodes: 2, Ranks: 2);

        var placement = _policy.Place(loads, topology);

        Assert.False(topology.IsHierarchical);
        Assert.Equal([0, 2, 1, 3], placement.Layers[0].Phy2Log.ToArray());
        Assert.Equal(1.0, PlacementBalance.Of(loads, placement).Mean, 12);
    }

    [Fact]
    public void Place_GlobalPolicy_SameAsOneGroupOnOneNode()
    {
        var loads = Loads([5, 80, 3, 9, 14, 2], [1, 1, 40, 1, 1, 30]);
        var global = _policy.Place(loads, new EplbTopology(Replicas: 8, Groups: 3, Nodes: 2, Ranks: 4));
        var single = _policy.Place(loads, new EplbTopology(Replicas: 8, Groups: 1, Nodes: 1, Ranks: 4));

        for (var layer = 0; layer < 2; layer++)
        {
            Assert.Equal(single.Layers[layer].Phy2Log.ToArray(), global.Layers[layer].Phy2Log.ToArray());
        }
    }

    [Fact]
    public void Place_Hierarchical_ReplicasStayOnTheirGroupsNode()
    {
        // 8 experts in 4 groups on 2 nodes of 2 ranks; 12 slots, 6 per node, 3 per rank.
        var loads = Loads([50, 1, 2, 3, 4, 5, 6, 30], [1, 1, 1, 1, 60, 1, 1, 1]);
        var topology = new EplbTopology(Replicas: 12, Groups: 4, Nodes: 2, Ranks: 4);

        var placement = _policy.Place(loads, topology);

        PlacementAssert.Consistent(placement, topology, layers: 2, experts: 8);
        foreach (var layer in placement.Layers)
        {
            for (var group = 0; group < 4; group++)
            {
                var nodes = Enumerable.Range(0, 12)
                    .Where(slot => layer.Phy2Log[slot] / 2 == group)
                    .Select(slot => placement.RankOfSlot(slot) / 2)
                    .Distinct();
                Assert.Single(nodes);
            }
        }
    }

    [Fact]
    public void Place_HotExpert_GetsReplicaCountFromItsLoad()
    {
        // R = experts + ranks: four spare slots, all of them for expert 0 (shares 100, 50, 33, 25, 20 stay above 10).
        var loads = Loads([100, 10, 10, 10, 10, 10, 10, 10]);
        var topology = new EplbTopology(Replicas: 12, Groups: 1, Nodes: 1, Ranks: 4);

        var placement = _policy.Place(loads, topology);

        Assert.Equal([5, 1, 1, 1, 1, 1, 1, 1], placement.Layers[0].LogicalCount.ToArray());
        Assert.Equal(5, placement.MaxReplicas);
        PlacementAssert.Consistent(placement, topology, layers: 1, experts: 8);
    }

    [Fact]
    public void Place_ExpertsWithFewerReplicasThanTheWidest_PadLog2PhyWithMinusOne()
    {
        // Layer 0 gives expert 0 three replicas; layer 1 is flat, yet its rows are just as wide.
        var loads = Loads([90, 1, 1, 1], [1, 1, 1, 1]);
        var topology = new EplbTopology(Replicas: 6, Groups: 1, Nodes: 1, Ranks: 2);

        var placement = _policy.Place(loads, topology);

        Assert.Equal(3, placement.MaxReplicas);
        var hot = placement.Layers[0].Log2Phy[0];
        Assert.DoesNotContain(-1, hot);
        Assert.Equal([-1, -1], placement.Layers[0].Log2Phy[1].Skip(1));
        Assert.All(placement.Layers[1].Log2Phy, row => Assert.Equal(3, row.Length));
        Assert.Equal(2, placement.Layers[1].Log2Phy.Count(row => row.Count(slot => slot >= 0) == 2));
        PlacementAssert.Consistent(placement, topology, layers: 2, experts: 4);
    }

    [Fact]
    public void Place_HotReplicas_LandOnDifferentRanks()
    {
        var loads = Loads([100, 10, 10, 10, 10, 10, 10, 10]);
        var topology = new EplbTopology(Replicas: 12, Groups: 1, Nodes: 1, Ranks: 4);

        var placement = _policy.Place(loads, topology);

        var hotRanks = placement.Layers[0].Log2Phy[0].Where(slot => slot >= 0).Select(placement.RankOfSlot);
        Assert.Equal(4, hotRanks.Distinct().Count());
    }

    [Theory]
    [InlineData(10, 1, 1, 4, "R % M == 0")]
    [InlineData(4, 1, 1, 4, "R >= experts")]
    [InlineData(8, 3, 1, 4, "experts % G == 0")]
    [InlineData(8, 2, 2, 3, "R % M == 0")]
    [InlineData(12, 2, 2, 3, "M % N == 0")]
    [InlineData(0, 1, 1, 1, "replicas (R) must be positive")]
    [InlineData(8, 0, 1, 1, "groups (G) must be positive")]
    [InlineData(8, 1, 0, 1, "nodes (N) must be positive")]
    [InlineData(8, 1, 1, 0, "ranks (M) must be positive")]
    public void Place_TopologyBreaksARule_ThrowsNamingTheRule(int replicas, int groups, int nodes, int ranks, string rule)
    {
        var loads = Loads([1, 2, 3, 4, 5, 6, 7, 8]);

        var error = Assert.Throws<EplbInputException>(
            () => _policy.Place(loads, new EplbTopology(replicas, groups, nodes, ranks)));

        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRows_RaggedLoads_ThrowsNamingTheLayer()
    {
        var error = Assert.Throws<EplbInputException>(() => ExpertLoadMatrix.FromRows([[1, 2, 3], [1, 2]]));

        Assert.Contains("rectangular", error.Message, StringComparison.Ordinal);
        Assert.Contains("layer 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void FromRows_NegativeOrNonFiniteLoad_Throws(double bad)
    {
        var error = Assert.Throws<EplbInputException>(() => ExpertLoadMatrix.FromRows([[1, 2], [3, bad]]));

        Assert.Contains("finite and non-negative", error.Message, StringComparison.Ordinal);
        Assert.Contains("layer 1, expert 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromRows_NoLayers_Throws()
    {
        var error = Assert.Throws<EplbInputException>(() => ExpertLoadMatrix.FromRows([]));

        Assert.Contains("at least one layer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromCounts_EngineCounters_BecomeLoads()
    {
        var loads = ExpertLoadMatrix.FromCounts([new long[] { 3, 0, 7 }, new long[] { 1, 1, 1 }]);

        Assert.Equal(2, loads.Layers);
        Assert.Equal(7.0, loads[0, 2]);
    }

    [Fact]
    public void Create_KnownName_IgnoresCase()
    {
        Assert.IsType<DeepSeekEplbPolicy>(ExpertPlacementPolicies.Create("DeepSeek"));
    }

    [Fact]
    public void Create_UnknownName_ListsTheKnownOnes()
    {
        var error = Assert.Throws<EplbInputException>(() => ExpertPlacementPolicies.Create("round-robin"));

        Assert.Contains("known: deepseek", error.Message, StringComparison.Ordinal);
    }

    internal static ExpertLoadMatrix Loads(params double[][] rows) => ExpertLoadMatrix.FromRows(rows);
}
