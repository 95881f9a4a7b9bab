using MoeDapr.Engine.Eplb;

namespace MoeDapr.Engine.Tests.Eplb;

public sealed class BalancedPackingTests
{
    [Fact]
    public void Pack_FourItemsTwoPacks_PairsHeaviestWithLightest()
    {
        var (pack, position) = BalancedPacking.Pack([5, 4, 3, 2], 2);

        // 5 → pack 0, 4 → pack 1, 3 → pack 1 (4 < 5), 2 → pack 0: both weigh 7.
        Assert.Equal([0, 1, 1, 0], pack);
        Assert.Equal([0, 0, 1, 1], position);
    }

    [Fact]
    public void Pack_OneHeavyItem_PackStillTakesExactlyItsShareOfItems()
    {
        // The lightest pack is always the one without the 10, but it can only take 3 items.
        var (pack, _) = BalancedPacking.Pack([10, 1, 1, 1, 1, 1], 2);

        Assert.Equal(3, pack.Count(p => p == 0));
        Assert.Equal(3, pack.Count(p => p == 1));
        Assert.Equal(2, Enumerable.Range(1, 5).Count(item => pack[item] == pack[0]));
    }

    [Fact]
    public void Pack_OneItemPerPack_KeepsItemsInPlace()
    {
        var (pack, position) = BalancedPacking.Pack([1, 9, 5], 3);

        Assert.Equal([0, 1, 2], pack);
        Assert.Equal([0, 0, 0], position);
    }

    [Fact]
    public void Pack_ItemsNotDivisibleByPacks_Throws()
    {
        var error = Assert.Throws<EplbInputException>(() => BalancedPacking.Pack([1, 2, 3], 2));

        Assert.Contains("items % packs == 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pack_RandomWeights_EveryPackFullWithDistinctPositions()
    {
        var random = new Random(11);
        for (var trial = 0; trial < 200; trial++)
        {
            var packs = random.Next(1, 9);
            var items = packs * random.Next(1, 9);
            double[] weights = [.. Enumerable.Range(0, items).Select(_ => Math.Floor(random.NextDouble() * 10))];

            var (pack, position) = BalancedPacking.Pack(weights, packs);

            for (var p = 0; p < packs; p++)
            {
                var positions = Enumerable.Range(0, items).Where(i => pack[i] == p).Select(i => position[i]).Order();
                Assert.Equal(Enumerable.Range(0, items / packs), positions);
            }
        }
    }
}
