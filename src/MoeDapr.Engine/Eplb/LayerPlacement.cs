using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace MoeDapr.Engine.Eplb;

/// <summary>One layer of an <see cref="ExpertPlacement"/>: what each slot holds and where each expert's replicas are.</summary>
public sealed class LayerPlacement
{
    private LayerPlacement(ImmutableArray<int> phy2Log, ImmutableArray<ImmutableArray<int>> log2Phy, ImmutableArray<int> logicalCount)
    {
        Phy2Log = phy2Log;
        Log2Phy = log2Phy;
        LogicalCount = logicalCount;
    }

    /// <summary>[R]: the logical expert held by each physical slot.</summary>
    [JsonPropertyName("phy2log")]
    public ImmutableArray<int> Phy2Log { get; }

    /// <summary>[experts, max replicas]: the slots holding each logical expert, in slot order, −1 where unused.</summary>
    [JsonPropertyName("log2phy")]
    public ImmutableArray<ImmutableArray<int>> Log2Phy { get; }

    /// <summary>[experts]: how many slots hold each logical expert.</summary>
    [JsonPropertyName("logcnt")]
    public ImmutableArray<int> LogicalCount { get; }

    internal static LayerPlacement Create(int[] phy2Log, int[] counts, int maxReplicas)
    {
        var rows = new int[counts.Length][];
        for (var expert = 0; expert < counts.Length; expert++)
        {
            rows[expert] = new int[maxReplicas];
            Array.Fill(rows[expert], -1);
        }

        var filled = new int[counts.Length];
        for (var slot = 0; slot < phy2Log.Length; slot++)
        {
            var expert = phy2Log[slot];
            rows[expert][filled[expert]++] = slot;
        }

        var log2Phy = rows.Select(row => ImmutableArray.Create(row)).ToImmutableArray();
        return new LayerPlacement(ImmutableArray.Create(phy2Log), log2Phy, ImmutableArray.Create(counts));
    }
}
