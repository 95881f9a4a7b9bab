using MoeDapr.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Training;

/// <summary>
/// Causal grouped-query attention with RoPE over whole sequences (no KV cache), as transformers' Qwen3Moe and
/// Mixtral attention compute it: per-head q/k RMSNorm before RoPE for qwen3_moe, query head h reads KV head h / groups.
/// </summary>
internal sealed class TrainableAttention : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Linear _q;
    private readonly Linear _k;
    private readonly Linear _v;
    private readonly Linear _o;
    private readonly TrainableRmsNorm? _qNorm;
    private readonly TrainableRmsNorm? _kNorm;
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;

    public TrainableAttention(ModelConfig config) : base(nameof(TrainableAttention))
    {
        _heads = config.NumHeads;
        _kvHeads = config.NumKvHeads;
        _headDim = config.HeadDim;
        long h = config.HiddenSize;
        _q = nn.Linear(h, (long)_heads * _headDim, hasBias: config.AttentionBias);
        _k = nn.Linear(h, (long)_kvHeads * _headDim, hasBias: config.AttentionBias);
        _v = nn.Linear(h, (long)_kvHeads * _headDim, hasBias: config.AttentionBias);
        _o = nn.Linear((long)_heads * _headDim, h, hasBias: false);
        if (config.QkNorm)
        {
            _qNorm = new TrainableRmsNorm(_headDim, config.RmsNormEps);
            _kNorm = new TrainableRmsNorm(_headDim, config.RmsNormEps);
        }

        RegisterComponents();
    }

    public Linear Q => _q;

    public Linear K => _k;

    public Linear V => _v;

    public Linear O => _o;

    public TrainableRmsNorm? QNorm => _qNorm;

    public TrainableRmsNorm? KNorm => _kNorm;

    /// <param name="x">[B, T, hidden]</param>
    /// <param name="cos">[T, head_dim]</param>
    /// <param name="sin">[T, head_dim]</param>
    public override Tensor forward(Tensor x, Tensor cos, Tensor sin)
    {
        var (b, t) = (x.shape[0], x.shape[1]);
        var q = _q.forward(x).view(b, t, _heads, _headDim); // [B, T, H, D]
        var k = _k.forward(x).view(b, t, _kvHeads, _headDim); // [B, T, KV, D]
        var v = _v.forward(x).view(b, t, _kvHeads, _headDim);
        if (_qNorm is not null && _kNorm is not null)
        {
            q = _qNorm.forward(q);
            k = _kNorm.forward(k);
        }

        q = Rope(q.transpose(1, 2), cos, sin); // [B, H, T, D]
        k = Rope(k.transpose(1, 2), cos, sin); // [B, KV, T, D]
        v = v.transpose(1, 2);
        var groups = _heads / _kvHeads;
        if (groups > 1)
        {
            k = k.repeat_interleave(groups, dim: 1); // [B, H, T, D]
            v = v.repeat_interleave(groups, dim: 1);
        }

        var attended = nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true); // [B, H, T, D]
        return _o.forward(attended.transpose(1, 2).reshape(b, t, (long)_heads * _headDim));
    }

    /// <summary>x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x2, x1). x: [B, heads, T, D].</summary>
    private static Tensor Rope(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return (x * cos) + (rotated * sin);
    }
}
