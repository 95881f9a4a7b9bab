using MoeDapr.Engine.Eplb;

namespace MoeDapr.Engine.Tests.Eplb;

public sealed class PlacementBalanceTests
{
    [Fact]
    public void OfIdentity_HotPairOnOneRank_MeanOverMax()
    {
        // Ranks get {10, 10} = 20 and {1, 1} = 2: mean 11 / max 20.
        var report = PlacementBalance.OfIdentity(ExpertLoadMatrix.FromRows([[10, 10, 1, 1]]), ranks: 2);

        Assert.Equal(0.55, report.Mean, 12);
    }

    [Fact]
    public void OfIdentity_AveragesLayers()
    {
        var report = PlacementBalance.OfIdentity(ExpertLoadMatrix.FromRows([[10, 10, 1, 1], [1, 1, 1, 1]]), ranks: 2);

        Assert.Equal([0.55, 1.0], report.PerLayer.ToArray());
        Assert.Equal(0.775, report.Mean, 12);
    }

    [Fact]
    public void OfIdentity_NoLoad_IsPerfect()
    {
        var report = PlacementBalance.OfIdentity(ExpertLoadMatrix.FromRows([[0, 0, 0, 0]]), ranks: 4);

        Assert.Equal(1.0, report.Mean);
    }

    [Fact]
    public void Of_ReplicatedExpert_SplitsItsLoadOverReplicas()
    {
        // Slots [0 | 0 | 1 | 2] over 2 ranks of 2: rank 0 holds both halves of expert 0 (30 + 30), rank 1 holds 20 + 20.
        var placement = ExpertPlacement.FromPhy2Log(2, 3, [[0, 0, 1, 2]]);
        var loads = ExpertLoadMatrix.FromRows([[60, 20, 20]]);

        var rankLoads = PlacementBalance.RankLoads(loads.Row(0), placement.Layers[0], 2);

        Assert.Equal([60.0, 40.0], rankLoads);
        Assert.Equal(50.0 / 60.0, PlacementBalance.Of(loads, placement).Mean, 12);
    }

    [Fact]
    public void FromPhy2Log_ExpertWithoutSlot_Throws()
    {
        var error = Assert.Throws<EplbInputException>(() => ExpertPlacement.FromPhy2Log(2, 3, [[0, 0, 1, 1]]));

        Assert.Contains("expert 2 has none", error.Message, StringComparison.Ordinal);
    }
}
