namespace MoeDapr.Engine.Eplb;

/// <summary>What a change of placement moves: the slots whose expert changes, and a placement that moves fewer.</summary>
public static class PlacementMoves
{
    /// <summary>
    /// The same rank groups as <paramref name="proposed"/> (what balancedness depends on), each group put on the rank
    /// that already holds most of it (greedy) and its experts arranged so that as many slots as possible keep the expert
    /// they hold in <paramref name="current"/>: fewer weights to copy, a shorter pause.
    /// </summary>
    public static int[] KeepInPlace(int[] current, int[] proposed, int ranks)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(proposed);
        var slotsPerRank = proposed.Length / ranks;
        var groups = Enumerable.Range(0, ranks).Select(g => proposed.Skip(g * slotsPerRank).Take(slotsPerRank).ToList()).ToArray();
        var held = Enumerable.Range(0, ranks).Select(r => current.Skip(r * slotsPerRank).Take(slotsPerRank).ToList()).ToArray();
        var pairs = from g in Enumerable.Range(0, ranks)
                    from r in Enumerable.Range(0, ranks)
                    orderby Overlap(groups[g], held[r]) descending, g == r ? 0 : 1, g, r
                    select (Group: g, Rank: r);
        var groupOf = new int[ranks];
        var (groupUsed, rankUsed) = (new bool[ranks], new bool[ranks]);
        foreach (var (g, r) in pairs)
        {
            if (!groupUsed[g] && !rankUsed[r])
            {
                (groupUsed[g], rankUsed[r], groupOf[r]) = (true, true, g);
            }
        }

        var result = new int[proposed.Length];
        for (var rank = 0; rank < ranks; rank++)
        {
            var first = rank * slotsPerRank;
            var wanted = new List<int>(groups[groupOf[rank]]);
            var free = new List<int>();
            for (var slot = first; slot < first + slotsPerRank; slot++)
            {
                if (wanted.Remove(current[slot]))
                {
                    result[slot] = current[slot];
                }
                else
                {
                    free.Add(slot);
                }
            }

            for (var i = 0; i < free.Count; i++)
            {
                result[free[i]] = wanted[i];
            }
        }

        return result;
    }

    private static int Overlap(List<int> group, List<int> held)
    {
        var rest = new List<int>(held);
        return group.Count(e => rest.Remove(e));
    }

    /// <summary>Slots whose expert differs between the two placements of one layer (each one is a weight copy).</summary>
    public static int SlotsChanged(IReadOnlyList<int> current, IReadOnlyList<int> proposed)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(proposed);
        return Enumerable.Range(0, Math.Min(current.Count, proposed.Count)).Count(s => current[s] != proposed[s]);
    }
}
