using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>
/// A trainable MoE decoder (torch.nn modules, autograd) with exactly the tensors of the Hugging Face checkpoint of
/// <see cref="ModelConfig"/>, so that what it learns saves into the layout the engine loads.
/// </summary>
public sealed class MoeTrainingModel : nn.Module<Tensor, Tensor>
{
    private readonly Embedding _embedding;
    private readonly ModuleList<TrainableDecoderLayer> _layers;
    private readonly TrainableRmsNorm _norm;
    private readonly Linear? _lmHead;
    private readonly Tensor _invFreq;

    private MoeTrainingModel(ModelConfig config) : base(nameof(MoeTrainingModel))
    {
        if (config.SharedExpertIntermediateSize > 0)
        {
            throw new ArgumentException($"{config.ModelType}: shared experts are not trainable here; use qwen3_moe or mixtral", nameof(config));
        }

        Config = config;
        _embedding = nn.Embedding(config.VocabSize, config.HiddenSize);
        _layers = nn.ModuleList(Enumerable.Range(0, config.NumLayers).Select(l => new TrainableDecoderLayer(config, l)).ToArray());
        _norm = new TrainableRmsNorm(config.HiddenSize, config.RmsNormEps);
        _lmHead = config.TieWordEmbeddings ? null : nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        // inv_freq = theta^(-2i/d) in fp32, as transformers' default rotary embedding (and the engine) computes it.
        var exponents = arange(0, config.HeadDim, 2, dtype: ScalarType.Int64).to(ScalarType.Float32) / config.HeadDim;
        _invFreq = (1.0f / pow(tensor(config.RopeTheta, dtype: ScalarType.Float32), exponents)).DetachFromDisposeScope();
        RegisterComponents();
    }

    public ModelConfig Config { get; }

    /// <summary>
    /// A model with GPT-2-style initial weights drawn from <paramref name="seed"/>: N(0, 0.02), output projections
    /// (o_proj, down) scaled by 1/sqrt(2 · layers) so the residual stream does not grow with depth; norms at one.
    /// </summary>
    public static MoeTrainingModel Create(ModelConfig config, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        var model = new MoeTrainingModel(config);
        var generator = new Generator((ulong)seed);
        var residualStd = 0.02 / Math.Sqrt(2.0 * config.NumLayers);
        using (no_grad())
        {
            foreach (var (name, tensor) in model.CheckpointTensors())
            {
                if (tensor.dim() == 1)
                {
                    continue;
                }

                var std = name.EndsWith("o_proj.weight", StringComparison.Ordinal) || name.EndsWith("down_proj.weight", StringComparison.Ordinal)
                    || name.EndsWith(".w2.weight", StringComparison.Ordinal) ? residualStd : 0.02;
                tensor.normal_(0, std, generator);
            }
        }

        return model;
    }

    /// <summary>Overwrites every parameter with the tensor of the same Hugging Face name in <paramref name="weights"/> (e.g. a saved checkpoint).</summary>
    public void LoadFrom(IWeightSource weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var specs = CheckpointSchema.ExpectedTensors(Config).ToDictionary(s => s.Name, StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in CheckpointTensors())
        {
            using var loaded = weights.Load(specs[name], ScalarType.Float32, parameter.device);
            parameter.copy_(loaded);
        }
    }

    /// <summary>Every tensor under its Hugging Face name (the live parameters, shared with the optimizer).</summary>
    public IReadOnlyDictionary<string, Tensor> CheckpointTensors()
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [CheckpointSchema.Embedding] = _embedding.weight! };
        for (var l = 0; l < _layers.Count; l++)
        {
            var layer = _layers[l];
            var p = CheckpointSchema.Layer(l);
            tensors[$"{p}.input_layernorm.weight"] = layer.InputNorm.Weight;
            tensors[$"{p}.post_attention_layernorm.weight"] = layer.PostAttentionNorm.Weight;
            var attention = layer.Attention;
            foreach (var (name, linear) in new[] { ("q_proj", attention.Q), ("k_proj", attention.K), ("v_proj", attention.V), ("o_proj", attention.O) })
            {
                tensors[$"{p}.self_attn.{name}.weight"] = linear.weight!;
                if (linear.bias is { } bias)
                {
                    tensors[$"{p}.self_attn.{name}.bias"] = bias;
                }
            }

            if (attention.QNorm is not null && attention.KNorm is not null)
            {
                tensors[$"{p}.self_attn.q_norm.weight"] = attention.QNorm.Weight;
                tensors[$"{p}.self_attn.k_norm.weight"] = attention.KNorm.Weight;
            }

            if (layer.Mlp is { } mlp)
            {
                tensors[$"{p}.mlp.gate_proj.weight"] = mlp.Gate.weight!;
                tensors[$"{p}.mlp.up_proj.weight"] = mlp.Up.weight!;
                tensors[$"{p}.mlp.down_proj.weight"] = mlp.Down.weight!;
                continue;
            }

            var moe = layer.Moe!;
            tensors[$"{CheckpointSchema.MoePrefix(Config, l)}.gate.weight"] = moe.Router.weight!;
            for (var e = 0; e < moe.Experts.Count; e++)
            {
                var (gate, up, down) = CheckpointSchema.ExpertWeights(Config, l, e);
                tensors[gate] = moe.Experts[e].Gate.weight!;
                tensors[up] = moe.Experts[e].Up.weight!;
                tensors[down] = moe.Experts[e].Down.weight!;
            }
        }

        tensors[CheckpointSchema.FinalNorm] = _norm.Weight;
        if (_lmHead is not null)
        {
            tensors[CheckpointSchema.LmHead] = _lmHead.weight!;
        }

        return tensors;
    }

    /// <summary>Logits [B, T, vocab] for token ids [B, T].</summary>
    public override Tensor forward(Tensor ids) => Forward(ids).Logits;

    /// <summary>Logits [B, T, vocab] and each MoE layer's router logits [B * T, experts] for token ids [B, T].</summary>
    public TrainingForward Forward(Tensor ids)
    {
        var t = ids.shape[1];
        var positions = arange(t, dtype: ScalarType.Float32, device: ids.device);
        var freqs = outer(positions, _invFreq.to(ids.device)); // [T, D / 2]
        var emb = cat([freqs, freqs], 1); // [T, D]
        var (cos, sin) = (emb.cos(), emb.sin());

        var x = _embedding.forward(ids); // [B, T, hidden]
        var routerLogits = new List<Tensor>();
        foreach (var layer in _layers)
        {
            var (output, logits) = layer.forward(x, cos, sin);
            x = output;
            if (logits is not null)
            {
                routerLogits.Add(logits);
            }
        }

        x = _norm.forward(x);
        var vocab = _lmHead is not null ? _lmHead.forward(x) : x.matmul(_embedding.weight!.t());
        return new TrainingForward(vocab, routerLogits);
    }
}
