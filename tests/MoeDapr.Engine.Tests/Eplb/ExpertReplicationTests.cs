using MoeDapr.Engine.Eplb;

namespace MoeDapr.Engine.Tests.Eplb;

public sealed class ExpertReplicationTests
{
    [Fact]
    public void Replicate_OneHotExpert_GetsEveryRedundantSlot()
    {
        // Shares after each step: 90 → 45 → 30, all still above the others' 10.
        var (slotToExpert, counts) = ExpertReplication.Replicate([90, 10, 10, 10], 6);

        Assert.Equal([0, 1, 2, 3, 0, 0], slotToExpert);
        Assert.Equal([3, 1, 1, 1], counts);
    }

    [Fact]
    public void Replicate_TwoHotExperts_AlternateByLoadPerReplica()
    {
        // Shares: 60 → 30 (expert 0), 40 → 20 (expert 1), 30 → 20 (expert 0); then both at 20, and the tie goes to
        // expert 1, which has fewer replicas.
        var (slotToExpert, counts) = ExpertReplication.Replicate([60, 40, 1, 1], 8);

        Assert.Equal([0, 1, 2, 3, 0, 1, 0, 1], slotToExpert);
        Assert.Equal([3, 3, 1, 1], counts);
    }

    [Fact]
    public void Replicate_NoLoad_SpreadsReplicasInsteadOfPilingOnOneExpert()
    {
        var (_, counts) = ExpertReplication.Replicate([0, 0, 0, 0], 6);

        Assert.Equal([2, 2, 1, 1], counts);
    }

    [Fact]
    public void Replicate_FewerSlotsThanExperts_Throws()
    {
        var error = Assert.Throws<EplbInputException>(() => ExpertReplication.Replicate([1, 2, 3], 2));

        Assert.Contains("R >= experts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Replicate_SmallCases_MinimisesLargestLoadPerReplica()
    {
        // Exhaustive check on small inputs: no other way to hand out the redundant slots has a lower hottest replica.
        var random = new Random(7);
        for (var trial = 0; trial < 50; trial++)
        {
            double[] loads = [.. Enumerable.Range(0, 4).Select(_ => (double)random.Next(0, 100))];
            var slots = 4 + random.Next(0, 5);
            var (_, counts) = ExpertReplication.Replicate(loads, slots);
            var greedy = loads.Select((load, e) => load / counts[e]).Max();

            var best = double.MaxValue;
            foreach (var candidate in Compositions(slots - 4, 4))
            {
                best = Math.Min(best, loads.Select((load, e) => load / (1 + candidate[e])).Max());
            }

            Assert.Equal(best, greedy, 9);
        }
    }

    private static IEnumerable<int[]> Compositions(int total, int parts)
    {
        if (parts == 1)
        {
            yield return [total];
            yield break;
        }

        for (var first = 0; first <= total; first++)
        {
            foreach (var rest in Compositions(total - first, parts - 1))
            {
                yield return [first, .. rest];
            }
        }
    }
}
