using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Kernels;
using MoeDapr.Model;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Modeling;

/// <summary>
/// Grouped-query attention with RoPE over a paged KV cache. q, k and v projections are fused into one
/// weight at load time; qwen3's per-head q/k RMSNorm runs on q and k together.
/// </summary>
internal sealed class GroupedQueryAttention : IAttentionLayer
{
    private readonly Tensor _qkvWeight; // [(heads + 2 kv_heads) * head_dim, hidden]
    private readonly Tensor? _qkvBias; // [(heads + 2 kv_heads) * head_dim]
    private readonly Tensor _outWeight; // [hidden, heads * head_dim]
    private readonly RmsNorm? _qkNorm; // weight [heads + kv_heads, head_dim]
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly RowLinear _linear;

    public GroupedQueryAttention(ModelConfig config, int layer, IWeightSource weights, ScalarType dtype, Device device, RowLinear linear)
    {
        _linear = linear;
        _heads = config.NumHeads;
        _kvHeads = config.NumKvHeads;
        _headDim = config.HeadDim;
        var p = $"{CheckpointSchema.Layer(layer)}.self_attn";
        long h = config.HiddenSize;
        long qDim = _heads * _headDim;
        long kvDim = _kvHeads * _headDim;
        _qkvWeight = WeightLoading.Concat(weights, dtype, device, 0,
            new($"{p}.q_proj.weight", [qDim, h]), new($"{p}.k_proj.weight", [kvDim, h]), new($"{p}.v_proj.weight", [kvDim, h]));
        if (config.AttentionBias)
        {
            _qkvBias = WeightLoading.Concat(weights, dtype, device, 0,
                new($"{p}.q_proj.bias", [qDim]), new($"{p}.k_proj.bias", [kvDim]), new($"{p}.v_proj.bias", [kvDim]));
        }

        _outWeight = weights.Load(new($"{p}.o_proj.weight", [h, qDim]), dtype, device);
        if (config.QkNorm)
        {
            using var scope = NewDisposeScope();
            var q = weights.Load(new($"{p}.q_norm.weight", [_headDim]), dtype, device);
            var k = weights.Load(new($"{p}.k_norm.weight", [_headDim]), dtype, device);
            var stacked = cat([q.unsqueeze(0).expand(_heads, _headDim), k.unsqueeze(0).expand(_kvHeads, _headDim)], 0).contiguous();
            _qkNorm = new RmsNorm(stacked.DetachFromDisposeScope(), config.RmsNormEps);
        }
    }

    public Tensor Forward(Tensor x, StepContext context, Tensor kvLayer)
    {
        var t = context.Tokens;
        var b = context.Sequences;
        var maxQ = context.MaxQuery;
        var groups = _heads / _kvHeads;
        var qkv = _linear.Apply(x, _qkvWeight, _qkvBias); // [T, (H + 2 KV) * D]
        var qk = qkv.narrow(1, 0, (_heads + _kvHeads) * _headDim).view(t, _heads + _kvHeads, _headDim);
        if (_qkNorm is not null)
        {
            qk = _qkNorm.Forward(qk);
        }

        qk = RotaryTables.Apply(qk, context); // [T, H + KV, D]
        var k = qk.narrow(1, _heads, _kvHeads); // [T, KV, D]
        var v = qkv.narrow(1, (_heads + _kvHeads) * _headDim, _kvHeads * _headDim).view(t, _kvHeads, _headDim);
        kvLayer.index_put_(stack([k, v], 1), [context.WriteBlock, context.WriteOffset]); // cache [blocks, block_size, 2, KV, D]

        var kvContext = kvLayer.index([context.ReadBlock, context.ReadOffset]); // [B, maxKv, 2, KV, D]
        var keys = kvContext.select(2, 0).permute(0, 2, 1, 3); // [B, KV, maxKv, D]
        var values = kvContext.select(2, 1).permute(0, 2, 1, 3);

        // Query heads h = kv * groups + j share kv head `kv`; fold the group into the query length so
        // K and V need no repeat: [B, KV, groups * maxQ, D].
        var q = qk.narrow(1, 0, _heads).index_select(0, context.QueryGather) // [B * maxQ, H, D]
            .view(b, maxQ, _kvHeads, groups, _headDim)
            .permute(0, 2, 3, 1, 4)
            .reshape(b, _kvHeads, groups * maxQ, _headDim);
        var attended = nn.functional.scaled_dot_product_attention(q, keys, values, context.Mask); // [B, KV, groups * maxQ, D]
        var merged = attended.view(b, _kvHeads, groups, maxQ, _headDim)
            .permute(0, 3, 1, 2, 4)
            .reshape(b * maxQ, _heads * _headDim)
            .index_select(0, context.OutputGather); // [T, H * D]
        return _linear.Apply(merged, _outWeight);
    }

    public void Dispose()
    {
        _qkvWeight.Dispose();
        _qkvBias?.Dispose();
        _outWeight.Dispose();
        _qkNorm?.Dispose();
    }
}
