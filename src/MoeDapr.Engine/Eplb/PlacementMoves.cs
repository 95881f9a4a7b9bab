namespace MoeDapr.Engine.Eplb;

/// <summary>What a change of placement moves: the slots whose expert changes, and a placement that moves fewer.</summary>
public static class PlacementMoves
{
    /// <summary>
    /// The same rank membership as <paramref name="proposed"/> (what balancedness depends on), with each rank's experts
    /// arranged so that as many slots as possible keep the expert they hold in <paramref name="current"/>: fewer
    /// weights to copy, a shorter pause.
    /// </summary>
    public static int[] KeepInPlace(int[] current, int[] proposed, int ranks)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(proposed);
        var slotsPerRank = proposed.Length / ranks;
        var result = new int[proposed.Length];
        for (var rank = 0; rank < ranks; rank++)
        {
            var first = rank * slotsPerRank;
            var wanted = proposed.Skip(first).Take(slotsPerRank).ToList();
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

    /// <summary>Slots whose expert differs between the two placements of one layer (each one is a weight copy).</summary>
    public static int SlotsChanged(IReadOnlyList<int> current, IReadOnlyList<int> proposed)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(proposed);
        return Enumerable.Range(0, Math.Min(current.Count, proposed.Count)).Count(s => current[s] != proposed[s]);
    }
}
