using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace MoeDapr.Engine.Eplb;

/// <summary>
/// Where every logical expert of every layer lives: R physical slots per layer, slot s on rank s / (R / M).
/// Decode applies it layer by layer (<see cref="Layers"/>), so each layer's plan stands alone.
/// </summary>
public sealed class ExpertPlacement
{
    private ExpertPlacement(int ranks, int experts, int maxReplicas, ImmutableArray<LayerPlacement> layers)
    {
        Ranks = ranks;
        Experts = experts;
        MaxReplicas = maxReplicas;
        Layers = layers;
    }

    /// <summary>EP ranks (M) the slots are spread over.</summary>
    [JsonPropertyName("ranks")]
    public int Ranks { get; }

    /// <summary>Logical experts per layer.</summary>
    [JsonPropertyName("experts")]
    public int Experts { get; }

    /// <summary>The most replicas any expert has in any layer: the width of every <see cref="LayerPlacement.Log2Phy"/> row.</summary>
    [JsonPropertyName("max_replicas")]
    public int MaxReplicas { get; }

    /// <summary>One placement per MoE layer.</summary>
    [JsonPropertyName("layers")]
    public ImmutableArray<LayerPlacement> Layers { get; }

    /// <summary>Physical expert slots per layer (R).</summary>
    [JsonIgnore]
    public int Replicas => Layers[0].Phy2Log.Length;

    /// <summary>Slots each rank holds (R / M).</summary>
    [JsonIgnore]
    public int SlotsPerRank => Replicas / Ranks;

    /// <summary>The rank that holds physical slot <paramref name="slot"/>.</summary>
    public int RankOfSlot(int slot) => slot / SlotsPerRank;

    /// <summary>
    /// Builds a placement from each layer's slot contents ([layers][R], logical expert per slot); derives
    /// <c>log2phy</c> (replicas listed in slot order, −1 padding) and <c>logcnt</c>. Throws
    /// <see cref="EplbInputException"/> when a slot names no expert, an expert has no slot, or R % M != 0.
    /// </summary>
    public static ExpertPlacement FromPhy2Log(int ranks, int experts, IReadOnlyList<int[]> phy2LogPerLayer)
    {
        ArgumentNullException.ThrowIfNull(phy2LogPerLayer);
        if (phy2LogPerLayer.Count == 0)
        {
            throw new EplbInputException("a placement needs at least one layer.");
        }

        var replicas = phy2LogPerLayer[0].Length;
        if (ranks <= 0 || replicas % ranks != 0)
        {
            throw new EplbInputException($"R % M == 0: slots per layer (R = {replicas}) must be a multiple of ranks (M = {ranks}).");
        }

        var counts = new int[phy2LogPerLayer.Count][];
        var maxReplicas = 0;
        for (var layer = 0; layer < phy2LogPerLayer.Count; layer++)
        {
            var phy2Log = phy2LogPerLayer[layer];
            if (phy2Log.Length != replicas)
            {
                throw new EplbInputException($"every layer needs R = {replicas} slots: layer {layer} has {phy2Log.Length}.");
            }

            counts[layer] = new int[experts];
            for (var slot = 0; slot < replicas; slot++)
            {
                var expert = phy2Log[slot];
                if ((uint)expert >= (uint)experts)
                {
                    throw new EplbInputException($"layer {layer}, slot {slot} holds expert {expert}, outside [0, {experts}).");
                }

                counts[layer][expert]++;
            }

            for (var expert = 0; expert < experts; expert++)
            {
                if (counts[layer][expert] == 0)
                {
                    throw new EplbInputException($"every expert needs a slot: layer {layer}, expert {expert} has none.");
                }

                maxReplicas = Math.Max(maxReplicas, counts[layer][expert]);
            }
        }

        var layers = ImmutableArray.CreateBuilder<LayerPlacement>(phy2LogPerLayer.Count);
        for (var layer = 0; layer < phy2LogPerLayer.Count; layer++)
        {
            layers.Add(LayerPlacement.Create(phy2LogPerLayer[layer], counts[layer], maxReplicas));
        }

        return new ExpertPlacement(ranks, experts, maxReplicas, layers.MoveToImmutable());
    }
}
