using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Kernels;
using MoeDapr.Engine.Kv;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// A Mixtral / Qwen2-MoE / Qwen3-MoE decoder built from a <see cref="ModelConfig"/> and an
/// <see cref="IWeightSource"/>: embedding, decoder layers, final norm and LM head. Stateless between steps:
/// keys and values live in a <see cref="PagedKvCache"/>.
/// </summary>
public sealed class MoeTransformer : IDisposable
{
    private readonly Tensor _embedding; // [vocab, hidden]
    private readonly Tensor _lmHead; // [vocab, hidden] (the embedding when tied)
    private readonly RmsNorm _finalNorm;
    private readonly DecoderLayer[] _layers;
    private readonly ExpertShards?[] _experts;
    private readonly RotaryTables _rope;

    public MoeTransformer(ModelConfig config, IWeightSource weights, ModelPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(placement);
        if (placement.ExpertSlots < config.NumExperts || placement.ExpertSlots % placement.RankDevices.Length != 0)
        {
            throw new ArgumentException(
                $"expert slots ({placement.ExpertSlots}) must be at least the expert count ({config.NumExperts}) and a multiple of the EP size ({placement.RankDevices.Length})");
        }

        if (placement.KernelThreads < 1)
        {
            throw new ArgumentException($"kernel threads ({placement.KernelThreads}) must be at least 1", nameof(placement));
        }

        Config = config;
        Placement = placement;
        var dtype = placement.Dtype;
        var device = placement.Device;
        Linear = new RowLinear(placement.KernelThreads);
        // Loaded weights are in no dispose scope; the engine builds the model outside any scope.
        long h = config.HiddenSize;
        _embedding = weights.Load(new(CheckpointSchema.Embedding, [config.VocabSize, h]), dtype, device);
        _lmHead = config.TieWordEmbeddings ? _embedding : weights.Load(new(CheckpointSchema.LmHead, [config.VocabSize, h]), dtype, device);
        _finalNorm = new RmsNorm(weights.Load(new(CheckpointSchema.FinalNorm, [h]), dtype, device), config.RmsNormEps);
        _rope = new RotaryTables(config.HeadDim, config.RopeTheta, placement.MaxPositions, dtype, device);
        _layers = new DecoderLayer[config.NumLayers];
        _experts = new ExpertShards?[config.NumLayers];
        Timings = new MoeStepTimings(placement.RankDevices.Length);
        var defaultPlacement = Enumerable.Range(0, placement.ExpertSlots).Select(s => s % config.NumExperts).ToArray();
        for (var l = 0; l < config.NumLayers; l++)
        {
            var p = CheckpointSchema.Layer(l);
            var attentionNorm = new RmsNorm(weights.Load(new($"{p}.input_layernorm.weight", [h]), dtype, device), config.RmsNormEps);
            var feedForwardNorm = new RmsNorm(weights.Load(new($"{p}.post_attention_layernorm.weight", [h]), dtype, device), config.RmsNormEps);
            IAttentionLayer attention = config.AttentionKind switch
            {
                AttentionKind.GroupedQuery => new GroupedQueryAttention(config, l, weights, dtype, device, Linear),
                _ => throw new NotSupportedException($"attention kind {config.AttentionKind}"),
            };
            IFeedForwardLayer feedForward;
            if (config.FeedForwardKindOf(l) == FeedForwardKind.Moe)
            {
                var slots = new ExpertSlots(config, l, weights, dtype, device, placement.RankDevices, defaultPlacement);
                var shards = new ExpertShards(slots, Linear) { Timings = Timings };
                _experts[l] = shards;
                feedForward = new MoeFeedForward(config, l, weights, dtype, device, shards, Linear) { Timings = Timings };
            }
            else
            {
                feedForward = new GatedMlp(weights, $"{p}.mlp", h, config.DenseIntermediateSize, dtype, device, Linear);
            }

            _layers[l] = new DecoderLayer(attentionNorm, attention, feedForwardNorm, feedForward);
        }
    }

    public ModelConfig Config { get; }

    public ModelPlacement Placement { get; }

    /// <summary>This model's linear products, with its own kernel thread count.</summary>
    internal RowLinear Linear { get; }

    /// <summary>Routing and per-rank expert time of the current step (engine thread only).</summary>
    internal MoeStepTimings Timings { get; }

    /// <summary>Experts of MoE layer <paramref name="layer"/>; null for a dense layer.</summary>
    internal ExpertShards? Experts(int layer) => _experts[layer];

    /// <summary>
    /// Runs one step: writes the new tokens' keys/values into <paramref name="cache"/> and returns fp32
    /// next-token logits [sequences, vocab] after each sequence's last new token. Call inside a dispose scope.
    /// </summary>
    public Tensor Forward(ForwardBatch batch, PagedKvCache cache)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(cache);
        batch.Validate(cache.BlockSize);
        for (var s = 0; s < batch.Sequences; s++)
        {
            if (batch.StartPositions[s] + batch.QueryLengths[s] > _rope.MaxPositions)
            {
                throw new ArgumentException($"sequence {s} reaches position {batch.StartPositions[s] + batch.QueryLengths[s]}, beyond the {_rope.MaxPositions} the engine was sized for");
            }
        }

        using var noGrad = no_grad();
        using var cores = Linear.OwnCores(batch.Tokens.Length, Placement.Device, Placement.Dtype);
        var context = new StepContext(batch, cache.BlockSize, Config.NumHeads / Config.NumKvHeads, _rope, Placement.Device);
        var x = _embedding.index_select(0, context.TokenIds); // [T, hidden]
        for (var l = 0; l < _layers.Length; l++)
        {
            x = _layers[l].Forward(x, context, cache.Layer(l));
        }

        var last = _finalNorm.Forward(x.index_select(0, context.LastToken)); // [B, hidden]
        return Linear.Apply(last, _lmHead).to(ScalarType.Float32).contiguous();
    }

    public void Dispose()
    {
        _embedding.Dispose();
        if (!ReferenceEquals(_lmHead, _embedding))
        {
            _lmHead.Dispose();
        }

        _finalNorm.Dispose();
        _rope.Dispose();
        foreach (var layer in _layers)
        {
            layer.Dispose();
        }
    }
}
