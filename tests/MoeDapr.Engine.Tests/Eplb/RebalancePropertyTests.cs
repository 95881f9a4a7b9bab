using MoeDapr.Engine.Eplb;

namespace MoeDapr.Engine.Tests.Eplb;

public sealed class RebalancePropertyTests
{
    public static TheoryData<int, int, int, int, int> Shapes => new()
    {
        // experts, groups, nodes, ranks, redundant slots
        { 8, 1, 1, 2, 2 },
        { 8, 4, 2, 4, 4 },
        { 16, 4, 2, 4, 4 },
        { 16, 8, 4, 8, 16 },
        { 64, 8, 2, 8, 8 },
        { 64, 8, 4, 8, 0 },
        { 64, 8, 3, 6, 8 },
        { 60, 6, 4, 8, 4 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Place_RandomSkewedLoads_BalancednessNeverWorseThanIdentity(int experts, int groups, int nodes, int ranks, int redundant)
    {
        var policy = new DeepSeekEplbPolicy();
        var topology = new EplbTopology(experts + redundant, groups, nodes, ranks);
        for (var seed = 0; seed < 25; seed++)
        {
            var loads = SkewedLoads(new Random(seed), layers: 4, experts);

            var placement = policy.Place(loads, topology);

            var before = PlacementBalance.OfIdentity(loads, ranks);
            var after = PlacementBalance.Of(loads, placement);
            for (var layer = 0; layer < loads.Layers; layer++)
            {
                Assert.True(
                    after.PerLayer[layer] >= before.PerLayer[layer] - 1e-12,
                    $"seed {seed}, layer {layer}: balancedness {after.PerLayer[layer]:F4} after, {before.PerLayer[layer]:F4} before");
            }

            PlacementAssert.Consistent(placement, topology, loads.Layers, experts);
        }
    }

    [Fact]
    public void Place_ReplicasEqualExpertsPlusRanks_ImprovesHeavilySkewedLoads()
    {
        var loads = SkewedLoads(new Random(3), layers: 8, experts: 64, zipfExponent: 1.2);

        var placement = new DeepSeekEplbPolicy().Place(loads, new EplbTopology(64 + 8, 8, 2, 8));

        Assert.True(PlacementBalance.OfIdentity(loads, 8).Mean < 0.7);
        Assert.True(PlacementBalance.Of(loads, placement).Mean > 0.9);
    }

    /// <summary>Zipf-like token counts over a random permutation of the experts, with ±20% noise: [layers, experts].</summary>
    private static ExpertLoadMatrix SkewedLoads(Random random, int layers, int experts, double? zipfExponent = null)
    {
        var rows = new double[layers][];
        for (var layer = 0; layer < layers; layer++)
        {
            var exponent = zipfExponent ?? (0.6 + (random.NextDouble() * 1.2));
            var order = Enumerable.Range(0, experts).ToArray();
            random.Shuffle(order);
            rows[layer] = new double[experts];
            for (var rank = 0; rank < experts; rank++)
            {
                var noise = 0.8 + (0.4 * random.NextDouble());
                rows[layer][order[rank]] = Math.Round(10_000 * noise / Math.Pow(rank + 1, exponent));
            }
        }

        return ExpertLoadMatrix.FromRows(rows);
    }
}
