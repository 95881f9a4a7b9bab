using System.Text.Json.Nodes;

namespace MoeDapr.Model;

/// <summary>Reading <c>config.json</c>: each family's keys and the defaults of its transformers configuration class.</summary>
public sealed partial record ModelConfig
{
    /// <summary>Reads <c>config.json</c> in <paramref name="modelDir"/>.</summary>
    public static ModelConfig Load(string modelDir)
    {
        var path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"{path}: not found (a model folder needs a Hugging Face config.json)");
        }

        return Parse(JsonFields.ReadObject(path), path);
    }

    /// <summary>Parses a config object; <paramref name="source"/> names it in error messages.</summary>
    public static ModelConfig Parse(JsonObject json, string source = "config.json")
    {
        var reader = new ConfigReader(json, source);
        var modelType = reader.String("model_type") ?? throw new ModelFormatException($"{source}: missing \"model_type\"");
        if (!SupportedModelTypes.TryGetValue(modelType, out var family))
        {
            throw new ModelFormatException(
                $"{source}: unsupported model_type \"{modelType}\"; supported: {string.Join(", ", SupportedModelTypes.Keys)}");
        }

        var hidden = reader.RequiredInt("hidden_size");
        var heads = reader.RequiredInt("num_attention_heads");
        var kvHeads = reader.Int("num_key_value_heads") ?? heads;
        var headDim = reader.Int("head_dim") ?? hidden / heads;
        var ropeTheta = reader.RopeTheta() ?? (family == ModelFamily.Mixtral ? 1e6 : 10000.0);

        int numExperts, topK, moeInter, denseInter, sharedInter;
        bool normTopK, bias, qkNorm;
        int sparseStep;
        int[] mlpOnly;
        switch (family)
        {
            case ModelFamily.Mixtral:
                numExperts = reader.Int("num_local_experts") ?? 8;
                topK = reader.Int("num_experts_per_tok") ?? 2;
                moeInter = reader.RequiredInt("intermediate_size");
                denseInter = moeInter;
                sharedInter = 0;
                normTopK = true;
                bias = false;
                qkNorm = false;
                sparseStep = 1;
                mlpOnly = [];
                break;
            case ModelFamily.Qwen2Moe:
                numExperts = reader.Int("num_experts") ?? 60;
                topK = reader.Int("num_experts_per_tok") ?? 4;
                moeInter = reader.RequiredInt("moe_intermediate_size");
                denseInter = reader.Int("intermediate_size") ?? moeInter;
                sharedInter = reader.Int("shared_expert_intermediate_size") ?? 0;
                normTopK = reader.Bool("norm_topk_prob") ?? false;
                bias = reader.Bool("qkv_bias") ?? true;
                qkNorm = false;
                sparseStep = reader.Int("decoder_sparse_step") ?? 1;
                mlpOnly = reader.IntArray("mlp_only_layers") ?? [];
                break;
            default:
                numExperts = reader.Int("num_experts") ?? 128;
                topK = reader.Int("num_experts_per_tok") ?? 8;
                moeInter = reader.RequiredInt("moe_intermediate_size");
                denseInter = reader.Int("intermediate_size") ?? moeInter;
                sharedInter = 0;
                normTopK = reader.Bool("norm_topk_prob") ?? false;
                bias = reader.Bool("attention_bias") ?? false;
                qkNorm = true;
                sparseStep = reader.Int("decoder_sparse_step") ?? 1;
                mlpOnly = reader.IntArray("mlp_only_layers") ?? [];
                break;
        }

        var config = new ModelConfig
        {
            Family = family,
            ModelType = modelType,
            VocabSize = reader.RequiredInt("vocab_size"),
            HiddenSize = hidden,
            NumLayers = reader.RequiredInt("num_hidden_layers"),
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            MaxPositionEmbeddings = reader.Int("max_position_embeddings") ?? 4096,
            RmsNormEps = reader.Double("rms_norm_eps") ?? 1e-6,
            RopeTheta = ropeTheta,
            TieWordEmbeddings = reader.Bool("tie_word_embeddings") ?? false,
            NumExperts = numExperts,
            NumExpertsPerToken = topK,
            MoeIntermediateSize = moeInter,
            DenseIntermediateSize = denseInter,
            SharedExpertIntermediateSize = sharedInter,
            NormTopKProb = normTopK,
            AttentionBias = bias,
            QkNorm = qkNorm,
            DecoderSparseStep = sparseStep,
            MlpOnlyLayers = mlpOnly,
            BosTokenId = reader.Int("bos_token_id"),
            EosTokenIds = reader.IntOrIntArray("eos_token_id") ?? [],
            TorchDtype = reader.String("torch_dtype") ?? reader.String("dtype"),
        };
        config.Validate(source);
        return config;
    }
}
