using MoeDapr.Contracts.Eplb;
using MoeDapr.Decode.Eplb;

namespace MoeDapr.Eplb.Tests;

/// <summary>Settings checked at start with messages naming the setting; the coordinator's load bookkeeping.</summary>
public sealed class EplbOptionsTests
{
    [Fact]
    public void Validate_Defaults_Succeed() =>
        Assert.True(new EplbOptionsValidator().Validate(null, new EplbOptions()).Succeeded);

    [Theory]
    [InlineData("Eplb:Algorithm", nameof(EplbOptions.Algorithm), "greedy")]
    [InlineData("Eplb:RedundantExperts", nameof(EplbOptions.RedundantExperts), -1)]
    [InlineData("Eplb:RebalanceFrequency", nameof(EplbOptions.RebalanceFrequency), 0L)]
    [InlineData("Eplb:WindowSize", nameof(EplbOptions.WindowSize), 0)]
    [InlineData("Eplb:BalancednessThreshold", nameof(EplbOptions.BalancednessThreshold), 1.5)]
    [InlineData("Eplb:MinImprovement", nameof(EplbOptions.MinImprovement), -0.1)]
    [InlineData("Eplb:LayersPerChunk", nameof(EplbOptions.LayersPerChunk), 0)]
    [InlineData("Eplb:Groups", nameof(EplbOptions.Groups), 0)]
    public void Validate_BadSetting_NamesIt(string setting, string property, object value)
    {
        var options = new EplbOptions();
        typeof(EplbOptions).GetProperty(property)!.SetValue(options, value);

        var result = new EplbOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith(setting + " ", StringComparison.Ordinal));
    }

    [Fact]
    public void PendingLoad_Add_SumsTokensAndStepsPerLayer()
    {
        var window = new ExpertLoadWindow
        {
            Model = "m", AppId = "decode", InstanceId = "a", Sequence = 1, StartUnixMs = 0, EndUnixMs = 1, Steps = 10,
            Ranks = 2, Slots = 4, Experts = 4, Layers = [0, 2], Tokens = [[1, 2, 3, 4], [5, 0, 0, 5]],
        };

        var pending = PendingLoad.Empty(window).Add(window).Add(window with { Sequence = 2, Steps = 5 });

        Assert.Equal(15, pending.Steps);
        Assert.Equal([2.0, 4, 6, 8], pending.Tokens[0]);
        Assert.Equal([10.0, 0, 0, 10], pending.Tokens[1]);
        Assert.False(pending.Matches(window with { Layers = [0, 1] }));
    }

    [Fact]
    public void Propose_HotExpertsOnOneRank_BalancesBetterThanTheInitialPlacement()
    {
        double[][] loads = [[400, 300, 50, 50]];
        var initial = new[] { PlanMaker.InitialPhy2Log(4, 4) }; // [0 1 | 2 3]: rank 0 carries 700 of 800

        var proposal = PlanMaker.Propose(loads, initial, new Engine.Eplb.EplbTopology(4, 1, 1, 2), new Engine.Eplb.DeepSeekEplbPolicy());

        Assert.Equal(800.0 / 2 / 700, proposal.Before, 9);
        Assert.True(proposal.After > proposal.Before);
        Assert.Equal([0, 1, 2, 3], proposal.Phy2Log[0].Order());
    }

    [Fact]
    public void KeepInPlace_SameRankMembership_KeepsExpertsInTheirSlots()
    {
        int[] current = [0, 1, 2, 3, 4, 5];
        int[] proposed = [2, 0, 6, 5, 3, 1]; // rank 0: {0, 2, 6}, rank 1: {1, 3, 5}

        var kept = Engine.Eplb.PlacementMoves.KeepInPlace(current, proposed, 2);

        Assert.Equal([0, 6, 2, 3, 1, 5], kept);
    }

    [Fact]
    public void KeepInPlace_GroupsOnSwappedRanks_PutsEachGroupWhereItAlreadyIs()
    {
        int[] current = [0, 1, 2, 3];
        int[] proposed = [3, 2, 1, 0]; // rank groups {3, 2} and {1, 0}: the same as today, on the other ranks

        var kept = Engine.Eplb.PlacementMoves.KeepInPlace(current, proposed, 2);

        Assert.Equal(current, kept);
        Assert.Equal(0, Engine.Eplb.PlacementMoves.SlotsChanged(current, kept));
    }
}
