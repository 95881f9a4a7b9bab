using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Tests;

/// <summary>
/// An independent plain-loop forward pass (contiguous, one sequence, double accumulation) written from the
/// transformers modelling code, used as the mathematical reference for the engine.
/// </summary>
internal sealed class ReferenceModel(ModelConfig config, IReadOnlyDictionary<string, torch.Tensor> tensors)
{
    private readonly Dictionary<string, float[]> _cache = [];

    /// <summary>Next-token logits after the last of <paramref name="tokens"/>.</summary>
    public float[] Logits(IReadOnlyList<int> tokens)
    {
        int h = config.HiddenSize, d = config.HeadDim, heads = config.NumHeads, kvHeads = config.NumKvHeads;
        var n = tokens.Count;
        var embed = W(CheckpointSchema.Embedding);
        var x = new double[n][];
        for (var t = 0; t < n; t++)
        {
            x[t] = embed.Skip(tokens[t] * h).Take(h).Select(v => (double)v).ToArray();
        }

        for (var l = 0; l < config.NumLayers; l++)
        {
            var p = $"model.layers.{l}";
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (var t = 0; t < n; t++)
            {
                var normed = Norm(x[t], W($"{p}.input_layernorm.weight"));
                q[t] = Linear(normed, $"{p}.self_attn.q_proj", heads * d);
                k[t] = Linear(normed, $"{p}.self_attn.k_proj", kvHeads * d);
                v[t] = Linear(normed, $"{p}.self_attn.v_proj", kvHeads * d);
                for (var head = 0; head < heads; head++)
                {
                    Rotate(q[t], head * d, t, $"{p}.self_attn.q_norm.weight");
                }

                for (var head = 0; head < kvHeads; head++)
                {
                    Rotate(k[t], head * d, t, $"{p}.self_attn.k_norm.weight");
                }
            }

            var oWeight = W($"{p}.self_attn.o_proj.weight");
            for (var t = 0; t < n; t++)
            {
                var attended = new double[heads * d];
                for (var head = 0; head < heads; head++)
                {
                    var kvHead = head / (heads / kvHeads);
                    var scores = new double[t + 1];
                    for (var s = 0; s <= t; s++)
                    {
                        double dot = 0;
                        for (var i = 0; i < d; i++)
                        {
                            dot += q[t][(head * d) + i] * k[s][(kvHead * d) + i];
                        }

                        scores[s] = dot / Math.Sqrt(d);
                    }

                    var weights = Softmax(scores);
                    for (var s = 0; s <= t; s++)
                    {
                        for (var i = 0; i < d; i++)
                        {
                            attended[(head * d) + i] += weights[s] * v[s][(kvHead * d) + i];
                        }
                    }
                }

                var o = MatVec(oWeight, attended, h);
                for (var i = 0; i < h; i++)
                {
                    x[t][i] += o[i];
                }
            }

            for (var t = 0; t < n; t++)
            {
                var normed = Norm(x[t], W($"{p}.post_attention_layernorm.weight"));
                var y = config.FeedForwardKindOf(l) == FeedForwardKind.Dense
                    ? Mlp(normed, $"{p}.mlp.gate_proj.weight", $"{p}.mlp.up_proj.weight", $"{p}.mlp.down_proj.weight", config.DenseIntermediateSize)
                    : Moe(normed, l);
                for (var i = 0; i < h; i++)
                {
                    x[t][i] += y[i];
                }
            }
        }

        var last = Norm(x[n - 1], W(CheckpointSchema.FinalNorm));
        var head2 = W(config.TieWordEmbeddings ? CheckpointSchema.Embedding : CheckpointSchema.LmHead);
        return MatVec(head2, last, config.VocabSize).Select(z => (float)z).ToArray();
    }

    private double[] Moe(double[] x, int layer)
    {
        var prefix = CheckpointSchema.MoePrefix(config, layer);
        var probs = Softmax(MatVec(W($"{prefix}.gate.weight"), x, config.NumExperts));
        var chosen = Enumerable.Range(0, config.NumExperts).OrderByDescending(e => probs[e]).ThenBy(e => e).Take(config.NumExpertsPerToken).ToArray();
        var total = chosen.Sum(e => probs[e]);
        var normalize = config.Family == ModelFamily.Mixtral || config.NormTopKProb;
        var y = new double[config.HiddenSize];
        foreach (var e in chosen)
        {
            var (gate, up, down) = CheckpointSchema.ExpertWeights(config, layer, e);
            var expert = Mlp(x, gate, up, down, config.MoeIntermediateSize);
            var weight = normalize ? probs[e] / total : probs[e];
            for (var i = 0; i < y.Length; i++)
            {
                y[i] += weight * expert[i];
            }
        }

        if (config.SharedExpertIntermediateSize > 0)
        {
            var shared = Mlp(x, $"{prefix}.shared_expert.gate_proj.weight", $"{prefix}.shared_expert.up_proj.weight",
                $"{prefix}.shared_expert.down_proj.weight", config.SharedExpertIntermediateSize);
            var gate = 1 / (1 + Math.Exp(-MatVec(W($"{prefix}.shared_expert_gate.weight"), x, 1)[0]));
            for (var i = 0; i < y.Length; i++)
            {
                y[i] += gate * shared[i];
            }
        }

        return y;
    }

    private double[] Mlp(double[] x, string gate, string up, string down, int inter)
    {
        var g = MatVec(W(gate), x, inter);
        var u = MatVec(W(up), x, inter);
        var act = g.Select((z, i) => z / (1 + Math.Exp(-z)) * u[i]).ToArray();
        return MatVec(W(down), act, config.HiddenSize);
    }

    /// <summary>Optional per-head RMSNorm (qwen3), then rotate-half RoPE on head slice [offset, offset + d).</summary>
    private void Rotate(double[] vector, int offset, int position, string normName)
    {
        var d = config.HeadDim;
        if (config.QkNorm)
        {
            var normed = Norm(vector[offset..(offset + d)], W(normName));
            Array.Copy(normed, 0, vector, offset, d);
        }

        var half = d / 2;
        for (var i = 0; i < half; i++)
        {
            var invFreq = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / d);
            var angle = position * invFreq;
            var (a, b) = (vector[offset + i], vector[offset + half + i]);
            vector[offset + i] = (a * Math.Cos(angle)) - (b * Math.Sin(angle));
            vector[offset + half + i] = (b * Math.Cos(angle)) + (a * Math.Sin(angle));
        }
    }

    private double[] Norm(double[] x, float[] weight)
    {
        var rms = 1 / Math.Sqrt((x.Sum(z => z * z) / x.Length) + config.RmsNormEps);
        return x.Select((z, i) => weight[i] * z * rms).ToArray();
    }

    private double[] Linear(double[] x, string prefix, int outputs)
    {
        var y = MatVec(W($"{prefix}.weight"), x, outputs);
        if (config.AttentionBias)
        {
            var bias = W($"{prefix}.bias");
            for (var i = 0; i < outputs; i++)
            {
                y[i] += bias[i];
            }
        }

        return y;
    }

    private static double[] MatVec(float[] weight, double[] x, int outputs)
    {
        var y = new double[outputs];
        for (var o = 0; o < outputs; o++)
        {
            double sum = 0;
            for (var i = 0; i < x.Length; i++)
            {
                sum += weight[(o * x.Length) + i] * x[i];
            }

            y[o] = sum;
        }

        return y;
    }

    private static double[] Softmax(double[] z)
    {
        var max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        var sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private float[] W(string name)
    {
        if (!_cache.TryGetValue(name, out var data))
        {
            data = tensors[name].contiguous().data<float>().ToArray();
            _cache[name] = data;
        }

        return data;
    }
}
