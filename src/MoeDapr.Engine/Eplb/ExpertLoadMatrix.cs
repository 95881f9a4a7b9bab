using System.Globalization;

namespace MoeDapr.Engine.Eplb;

/// <summary>Observed load per layer and logical expert (tokens routed, or any non-negative weight): [layers, experts].</summary>
public sealed class ExpertLoadMatrix
{
    // Row-major [layers, experts].
    private readonly double[] _values;

    private ExpertLoadMatrix(double[] values, int layers, int experts)
    {
        _values = values;
        Layers = layers;
        Experts = experts;
    }

    /// <summary>Number of MoE layers (rows).</summary>
    public int Layers { get; }

    /// <summary>Number of logical experts per layer (columns).</summary>
    public int Experts { get; }

    /// <summary>The load of one expert in one layer.</summary>
    public double this[int layer, int expert] => Row(layer)[expert];

    /// <summary>The loads of one layer: [experts].</summary>
    public ReadOnlySpan<double> Row(int layer)
    {
        if ((uint)layer >= (uint)Layers)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {Layers}).");
        }

        return _values.AsSpan(layer * Experts, Experts);
    }

    /// <summary>Token counts per layer and expert (as the engine's expert counters report them) as loads.</summary>
    public static ExpertLoadMatrix FromCounts(IReadOnlyList<IReadOnlyList<long>> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var rows = new IReadOnlyList<double>[counts.Count];
        for (var layer = 0; layer < counts.Count; layer++)
        {
            rows[layer] = counts[layer] is { } row ? [.. row.Select(count => (double)count)] : [];
        }

        return FromRows(rows);
    }

    /// <summary>
    /// Copies and validates rows of loads: at least one layer and one expert, every row the same length,
    /// every value finite and non-negative.
    /// </summary>
    public static ExpertLoadMatrix FromRows(IReadOnlyList<IReadOnlyList<double>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new EplbInputException("loads must have at least one layer (got an empty list).");
        }

        var experts = rows[0]?.Count ?? 0;
        if (experts == 0)
        {
            throw new EplbInputException("loads must have at least one expert per layer (layer 0 is empty).");
        }

        var values = new double[rows.Count * experts];
        for (var layer = 0; layer < rows.Count; layer++)
        {
            var row = rows[layer];
            if (row is null || row.Count != experts)
            {
                throw new EplbInputException(
                    $"loads must be rectangular: layer {layer} has {row?.Count ?? 0} experts, layer 0 has {experts}.");
            }

            for (var expert = 0; expert < experts; expert++)
            {
                var value = row[expert];
                if (!double.IsFinite(value) || value < 0)
                {
                    throw new EplbInputException(string.Create(
                        CultureInfo.InvariantCulture,
                        $"loads must be finite and non-negative: layer {layer}, expert {expert} is {value}."));
                }

                values[(layer * experts) + expert] = value;
            }
        }

        return new ExpertLoadMatrix(values, rows.Count, experts);
    }
}
