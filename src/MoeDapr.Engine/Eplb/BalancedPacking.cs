namespace MoeDapr.Engine.Eplb;

/// <summary>
/// Packs weighted items into packs that each take exactly items / packs of them, keeping pack weights close:
/// heaviest item first, each onto the lightest pack that still has room (DeepSeek EPLB's balanced packing).
/// </summary>
public static class BalancedPacking
{
    /// <summary>Returns, per item, its pack [items] and its position inside that pack [items].</summary>
    public static (int[] Pack, int[] Position) Pack(ReadOnlySpan<double> weights, int packs)
    {
        if (packs <= 0)
        {
            throw new EplbInputException($"packs must be positive (got {packs}).");
        }

        if (weights.IsEmpty || weights.Length % packs != 0)
        {
            throw new EplbInputException($"items % packs == 0: {weights.Length} items cannot fill {packs} packs equally.");
        }

        var items = weights.Length;
        var capacity = items / packs;
        var pack = new int[items];
        var position = new int[items];
        if (capacity == 1)
        {
            // One item per pack: every assignment is equally balanced, and this one moves nothing.
            for (var item = 0; item < items; item++)
            {
                pack[item] = item;
            }

            return (pack, position);
        }

        var order = new int[items];
        for (var item = 0; item < items; item++)
        {
            order[item] = item;
        }

        // Heaviest first; equal weights keep their index order so the result does not depend on the sort.
        var keys = weights.ToArray();
        Array.Sort(order, (a, b) => keys[b] != keys[a] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));

        var packWeight = new double[packs];
        var packItems = new int[packs];
        foreach (var item in order)
        {
            var lightest = -1;
            for (var candidate = 0; candidate < packs; candidate++)
            {
                if (packItems[candidate] < capacity && (lightest < 0 || packWeight[candidate] < packWeight[lightest]))
                {
                    lightest = candidate;
                }
            }

            pack[item] = lightest;
            position[item] = packItems[lightest]++;
            packWeight[lightest] += keys[item];
        }

        return (pack, position);
    }
}
