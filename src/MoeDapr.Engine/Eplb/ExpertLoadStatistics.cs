namespace MoeDapr.Engine.Eplb;

/// <summary>Imbalance figures over one layer's per-expert token counts, as the expert-load metrics report them.</summary>
public static class ExpertLoadStatistics
{
    /// <summary>
    /// Gini coefficient of the counts, scaled by n / (n − 1) so that 0 is perfect balance and 1 is every token on one
    /// expert whatever the expert count. 0 when there are no tokens or a single expert.
    /// </summary>
    public static double Gini(ReadOnlySpan<long> counts)
    {
        var values = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            values[i] = counts[i];
        }

        return Gini(values);
    }

    /// <inheritdoc cref="Gini(ReadOnlySpan{long})"/>
    public static double Gini(ReadOnlySpan<double> counts)
    {
        var n = counts.Length;
        var total = SumChecked(counts);
        if (n < 2 || total <= 0)
        {
            return 0;
        }

        var sorted = counts.ToArray();
        Array.Sort(sorted);

        // G = 2 Σ i·x(i) / (n Σ x) − (n + 1) / n over ascending x(i), i from 1; its maximum is (n − 1) / n.
        double weighted = 0;
        for (var i = 0; i < n; i++)
        {
            weighted += (i + 1) * sorted[i];
        }

        var gini = (2 * weighted / (n * total)) - ((n + 1.0) / n);
        return Math.Clamp(gini * n / (n - 1), 0, 1);
    }

    /// <summary>Largest count over the mean count; 1 when there are no tokens (nothing is hot).</summary>
    public static double MaxOverMean(ReadOnlySpan<long> counts)
    {
        var values = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++)
        {
            values[i] = counts[i];
        }

        return MaxOverMean(values);
    }

    /// <inheritdoc cref="MaxOverMean(ReadOnlySpan{long})"/>
    public static double MaxOverMean(ReadOnlySpan<double> counts)
    {
        var total = SumChecked(counts);
        if (counts.IsEmpty || total <= 0)
        {
            return 1;
        }

        double max = 0;
        foreach (var count in counts)
        {
            max = Math.Max(max, count);
        }

        return max / (total / counts.Length);
    }

    /// <summary>Each expert's share of the layer's tokens [experts], summing to 1; all 0 when there are no tokens.</summary>
    public static double[] UtilizationShares(ReadOnlySpan<long> counts)
    {
        long total = 0;
        foreach (var count in counts)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count, nameof(counts));
            total += count;
        }

        var shares = new double[counts.Length];
        if (total > 0)
        {
            for (var i = 0; i < counts.Length; i++)
            {
                shares[i] = (double)counts[i] / total;
            }
        }

        return shares;
    }

    private static double SumChecked(ReadOnlySpan<double> counts)
    {
        double total = 0;
        foreach (var count in counts)
        {
            if (!double.IsFinite(count) || count < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(counts), count, "token counts must be finite and non-negative.");
            }

            total += count;
        }

        return total;
    }
}
