namespace MoeDapr.Model;

/// <summary>
/// The exact tensor names and shapes of a Hugging Face checkpoint of each family, as transformers
/// writes them (per-expert tensors, <c>[out_features, in_features]</c> for linear weights).
/// </summary>
public static class CheckpointSchema
{
    public static string Embedding => "model.embed_tokens.weight";
    public static string FinalNorm => "model.norm.weight";
    public static string LmHead => "lm_head.weight";

    public static string Layer(int layer) => $"model.layers.{layer}";

    /// <summary>The prefix of a layer's MoE block: <c>block_sparse_moe</c> (Mixtral) or <c>mlp</c> (Qwen).</summary>
    public static string MoePrefix(ModelConfig config, int layer) =>
        config.Family == ModelFamily.Mixtral ? $"{Layer(layer)}.block_sparse_moe" : $"{Layer(layer)}.mlp";

    /// <summary>Names of one routed expert's gate, up and down projections.</summary>
    public static (string Gate, string Up, string Down) ExpertWeights(ModelConfig config, int layer, int expert)
    {
        var prefix = $"{MoePrefix(config, layer)}.experts.{expert}";
        return config.Family == ModelFamily.Mixtral
            ? ($"{prefix}.w1.weight", $"{prefix}.w3.weight", $"{prefix}.w2.weight")
            : ($"{prefix}.gate_proj.weight", $"{prefix}.up_proj.weight", $"{prefix}.down_proj.weight");
    }

    /// <summary>Every tensor the checkpoint of <paramref name="config"/> must contain, in a stable order.</summary>
    public static IReadOnlyList<TensorSpec> ExpectedTensors(ModelConfig config)
    {
        var h = (long)config.HiddenSize;
        var qDim = (long)config.NumHeads * config.HeadDim;
        var kvDim = (long)config.NumKvHeads * config.HeadDim;
        var specs = new List<TensorSpec> { new(Embedding, [config.VocabSize, h]) };

        for (var l = 0; l < config.NumLayers; l++)
        {
            var p = Layer(l);
            specs.Add(new($"{p}.input_layernorm.weight", [h]));
            specs.Add(new($"{p}.self_attn.q_proj.weight", [qDim, h]));
            specs.Add(new($"{p}.self_attn.k_proj.weight", [kvDim, h]));
            specs.Add(new($"{p}.self_attn.v_proj.weight", [kvDim, h]));
            if (config.AttentionBias)
            {
                specs.Add(new($"{p}.self_attn.q_proj.bias", [qDim]));
                specs.Add(new($"{p}.self_attn.k_proj.bias", [kvDim]));
                specs.Add(new($"{p}.self_attn.v_proj.bias", [kvDim]));
            }

            specs.Add(new($"{p}.self_attn.o_proj.weight", [h, qDim]));
            if (config.QkNorm)
            {
                specs.Add(new($"{p}.self_attn.q_norm.weight", [config.HeadDim]));
                specs.Add(new($"{p}.self_attn.k_norm.weight", [config.HeadDim]));
            }

            specs.Add(new($"{p}.post_attention_layernorm.weight", [h]));

            if (config.FeedForwardKindOf(l) == FeedForwardKind.Dense)
            {
                long inter = config.DenseIntermediateSize;
                specs.Add(new($"{p}.mlp.gate_proj.weight", [inter, h]));
                specs.Add(new($"{p}.mlp.up_proj.weight", [inter, h]));
                specs.Add(new($"{p}.mlp.down_proj.weight", [h, inter]));
                continue;
            }

            var moe = MoePrefix(config, l);
            specs.Add(new($"{moe}.gate.weight", [config.NumExperts, h]));
            long expertInter = config.MoeIntermediateSize;
            for (var e = 0; e < config.NumExperts; e++)
            {
                var (gate, up, down) = ExpertWeights(config, l, e);
                specs.Add(new(gate, [expertInter, h]));
                specs.Add(new(up, [expertInter, h]));
                specs.Add(new(down, [h, expertInter]));
            }

            if (config.SharedExpertIntermediateSize > 0)
            {
                long shared = config.SharedExpertIntermediateSize;
                specs.Add(new($"{moe}.shared_expert.gate_proj.weight", [shared, h]));
                specs.Add(new($"{moe}.shared_expert.up_proj.weight", [shared, h]));
                specs.Add(new($"{moe}.shared_expert.down_proj.weight", [h, shared]));
                specs.Add(new($"{moe}.shared_expert_gate.weight", [1, h]));
            }
        }

        specs.Add(new(FinalNorm, [h]));
        if (!config.TieWordEmbeddings)
        {
            specs.Add(new(LmHead, [config.VocabSize, h]));
        }

        return specs;
    }

    /// <summary>Total parameters, and parameters active per token (top-k experts instead of all).</summary>
    public static (long Total, long ActivePerToken) ParameterCounts(ModelConfig config)
    {
        long total = 0;
        var perExpert = 3L * config.HiddenSize * config.MoeIntermediateSize;
        foreach (var spec in ExpectedTensors(config))
        {
            total += spec.ElementCount;
        }

        var inactive = config.MoeLayers.Count * perExpert * (config.NumExperts - config.NumExpertsPerToken);

        return (total, total - inactive);
    }
}
