namespace MoeDapr.Engine.Eplb;

/// <summary>Chooses which experts get the redundant physical slots (step "replicate" of DeepSeek's EPLB).</summary>
public static class ExpertReplication
{
    /// <summary>
    /// Fills <paramref name="slots"/> physical slots from loads [experts]: slot i &lt; experts holds expert i, and each
    /// further slot goes to the expert with the largest load per replica at that moment (ties: fewer replicas, then
    /// lower index, so experts without load still spread their replicas). Returns slot → expert [slots] and
    /// replicas per expert [experts].
    /// </summary>
    public static (int[] SlotToExpert, int[] Counts) Replicate(ReadOnlySpan<double> loads, int slots)
    {
        if (loads.IsEmpty)
        {
            throw new EplbInputException("replication needs at least one expert.");
        }

        if (slots < loads.Length)
        {
            throw new EplbInputException($"R >= experts: {slots} slots cannot hold {loads.Length} experts.");
        }

        var slotToExpert = new int[slots];
        var counts = new int[loads.Length];
        for (var expert = 0; expert < loads.Length; expert++)
        {
            slotToExpert[expert] = expert;
            counts[expert] = 1;
        }

        for (var slot = loads.Length; slot < slots; slot++)
        {
            var best = 0;
            var bestShare = loads[0] / counts[0];
            for (var expert = 1; expert < loads.Length; expert++)
            {
                var share = loads[expert] / counts[expert];
                if (share > bestShare || (share == bestShare && counts[expert] < counts[best]))
                {
                    best = expert;
                    bestShare = share;
                }
            }

            slotToExpert[slot] = best;
            counts[best]++;
        }

        return (slotToExpert, counts);
    }
}
