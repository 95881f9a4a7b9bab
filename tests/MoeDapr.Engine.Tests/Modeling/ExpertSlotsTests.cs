using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Modeling;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Tests.Modeling;

public sealed class ExpertSlotsTests
{
    private static readonly ModelConfig Config = TinyModels.Config("mixtral"); // 4 experts

    // Per test, outside its dispose scope.
    private readonly Dictionary<string, Tensor> _weights = TinyModels.Weights(Config);

    [Fact]
    public void SlotsOf_IdentityPlacement_IsEachAssignmentsExpert()
    {
        using var scope = NewDisposeScope();
        using var slots = Slots(ranks: 2, [0, 1, 2, 3]);
        long[] experts = [3, 0, 2, 2, 1];

        Assert.Equal(experts, SlotsOf(slots, experts));
    }

    [Fact]
    public void SlotsOf_ReplicatedExpert_AlternatesItsAssignmentsOverItsSlots()
    {
        using var scope = NewDisposeScope();
        using var slots = Slots(ranks: 2, [2, 1, 0, 3, 2, 1]); // expert 2 in slots 0 and 4, expert 1 in 1 and 5

        // Assignment a of a replicated expert goes to its (a % replicas)-th slot.
        Assert.Equal([0L, 4, 0, 4, 2, 3, 1, 5], SlotsOf(slots, [2, 2, 2, 2, 0, 3, 1, 1]));
    }

    [Fact]
    public void Apply_NewPlan_EverySlotHoldsItsNewExpertsWeights()
    {
        using var scope = NewDisposeScope();
        using var slots = Slots(ranks: 2, [0, 1, 2, 3, 0, 1]);
        int[] plan = [3, 2, 1, 0, 1, 3]; // swaps within and across ranks, replicas moved

        slots.Apply(plan);

        Assert.Equal(plan, slots.Phy2Log);
        for (var s = 0; s < plan.Length; s++)
        {
            var (r, j) = (s / slots.SlotsPerRank, s % slots.SlotsPerRank);
            var (gate, up, down) = CheckpointSchema.ExpertWeights(Config, 0, plan[s]);
            Assert.True(slots.GateUp(r, j).equal(cat([_weights[gate], _weights[up]], 0)).all().item<bool>(), $"slot {s} gate/up");
            Assert.True(slots.Down(r, j).equal(_weights[down]).all().item<bool>(), $"slot {s} down");
        }
    }

    [Theory]
    [InlineData(new[] { 0, 1, 2 }, "3 slots")]
    [InlineData(new[] { 0, 1, 2, 4 }, "expert 4")]
    [InlineData(new[] { 0, 1, 1, 2 }, "expert 3")]
    public void Apply_InvalidPlan_IsRejectedAndPlacementKept(int[] plan, string named)
    {
        using var scope = NewDisposeScope();
        using var slots = Slots(ranks: 2, [0, 1, 2, 3]);

        var error = Assert.Throws<ArgumentException>(() => slots.Apply(plan));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Equal([0, 1, 2, 3], slots.Phy2Log);
    }

    private ExpertSlots Slots(int ranks, int[] phy2Log) =>
        new(Config, 0, new InMemoryWeightSource(_weights), ScalarType.Float32, CPU, Enumerable.Repeat(CPU, ranks).ToArray(), phy2Log);

    private static long[] SlotsOf(ExpertSlots slots, long[] experts)
    {
        var flat = tensor(experts, dtype: ScalarType.Int64);
        return slots.SlotsOf(flat, arange(experts.Length, dtype: ScalarType.Int64)).data<long>().ToArray();
    }
}
