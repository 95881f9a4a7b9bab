using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeDapr.Model;

/// <summary>The model families MoeDapr runs; each maps to a Hugging Face <c>model_type</c>.</summary>
public enum ModelFamily
{
    Mixtral,
    Qwen2Moe,
    Qwen3Moe,
}

/// <summary>How a decoder layer computes its feed-forward part.</summary>
public enum FeedForwardKind
{
    /// <summary>A plain gated MLP (<c>gate_proj</c>/<c>up_proj</c>/<c>down_proj</c>).</summary>
    Dense,

    /// <summary>A router over experts, optionally with a shared expert.</summary>
    Moe,
}

/// <summary>How a decoder layer computes attention. Only grouped-query attention exists today; MLA comes later.</summary>
public enum AttentionKind
{
    GroupedQuery,
}

/// <summary>
/// The architecture of one checkpoint, read from Hugging Face <c>config.json</c> with the defaults of
/// the matching transformers configuration class.
/// </summary>
public sealed record ModelConfig
{
    public static readonly IReadOnlyDictionary<string, ModelFamily> SupportedModelTypes = new Dictionary<string, ModelFamily>
    {
        ["mixtral"] = ModelFamily.Mixtral,
        ["qwen2_moe"] = ModelFamily.Qwen2Moe,
        ["qwen3_moe"] = ModelFamily.Qwen3Moe,
    };

    public required ModelFamily Family { get; init; }
    public required string ModelType { get; init; }
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required bool TieWordEmbeddings { get; init; }

    /// <summary>Number of routed experts per MoE layer.</summary>
    public required int NumExperts { get; init; }

    /// <summary>Experts each token is routed to (top-k).</summary>
    public required int NumExpertsPerToken { get; init; }

    /// <summary>Intermediate size of one routed expert.</summary>
    public required int MoeIntermediateSize { get; init; }

    /// <summary>Intermediate size of dense MLP layers (qwen2_moe/qwen3_moe <c>intermediate_size</c>).</summary>
    public required int DenseIntermediateSize { get; init; }

    /// <summary>Intermediate size of the shared expert; 0 when the family has none.</summary>
    public required int SharedExpertIntermediateSize { get; init; }

    /// <summary>Renormalise the top-k routing weights to sum to one.</summary>
    public required bool NormTopKProb { get; init; }

    public required bool AttentionBias { get; init; }

    /// <summary>Per-head RMSNorm on queries and keys before RoPE (qwen3_moe).</summary>
    public required bool QkNorm { get; init; }

    public required int DecoderSparseStep { get; init; }
    public required IReadOnlyList<int> MlpOnlyLayers { get; init; }
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Dtype the checkpoint declares (<c>torch_dtype</c> / <c>dtype</c>), e.g. "float32" or "bfloat16".</summary>
    public string? TorchDtype { get; init; }

    public AttentionKind AttentionKind => AttentionKind.GroupedQuery;

    /// <summary>Whether layer <paramref name="layer"/> is an MoE layer (transformers' rule for qwen2_moe/qwen3_moe).</summary>
    public FeedForwardKind FeedForwardKindOf(int layer)
    {
        if (Family == ModelFamily.Mixtral)
        {
            return FeedForwardKind.Moe;
        }

        var sparse = !MlpOnlyLayers.Contains(layer) && NumExperts > 0 && (layer + 1) % DecoderSparseStep == 0;
        return sparse ? FeedForwardKind.Moe : FeedForwardKind.Dense;
    }

    /// <summary>Indices of the MoE layers.</summary>
    public IReadOnlyList<int> MoeLayers => Enumerable.Range(0, NumLayers).Where(l => FeedForwardKindOf(l) == FeedForwardKind.Moe).ToArray();

    /// <summary>Reads <c>config.json</c> in <paramref name="modelDir"/>.</summary>
    public static ModelConfig Load(string modelDir)
    {
        var path = Path.Combine(modelDir, "config.json");
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"{path}: not found (a model folder needs a Hugging Face config.json)");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: invalid JSON: {e.Message}", e);
        }

        if (node is not JsonObject obj)
        {
            throw new ModelFormatException($"{path}: expected a JSON object");
        }

        return Parse(obj, path);
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

    private void Validate(string source)
    {
        void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ModelFormatException($"{source}: {message}");
            }
        }

        Require(VocabSize > 0, "vocab_size must be positive");
        Require(HiddenSize > 0 && NumLayers > 0 && NumHeads > 0 && NumKvHeads > 0 && HeadDim > 0,
            "hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads and head_dim must be positive");
        Require(NumHeads % NumKvHeads == 0, $"num_attention_heads ({NumHeads}) must be a multiple of num_key_value_heads ({NumKvHeads})");
        Require(HeadDim % 2 == 0, $"head_dim ({HeadDim}) must be even for RoPE");
        Require(NumExperts > 0, "the number of experts must be positive");
        Require(NumExpertsPerToken > 0 && NumExpertsPerToken <= NumExperts,
            $"num_experts_per_tok ({NumExpertsPerToken}) must be between 1 and the number of experts ({NumExperts})");
        Require(DecoderSparseStep > 0, "decoder_sparse_step must be positive");
        Require(RmsNormEps > 0, "rms_norm_eps must be positive");
    }

    /// <summary>Serialises back to a Hugging Face <c>config.json</c> object for this family.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Family switch
            {
                ModelFamily.Mixtral => "MixtralForCausalLM",
                ModelFamily.Qwen2Moe => "Qwen2MoeForCausalLM",
                _ => "Qwen3MoeForCausalLM",
            }),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKvHeads,
            ["head_dim"] = HeadDim,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["hidden_act"] = "silu",
            ["num_experts_per_tok"] = NumExpertsPerToken,
        };
        if (BosTokenId is { } bos)
        {
            json["bos_token_id"] = bos;
        }

        if (EosTokenIds.Count == 1)
        {
            json["eos_token_id"] = EosTokenIds[0];
        }
        else if (EosTokenIds.Count > 1)
        {
            json["eos_token_id"] = new JsonArray(EosTokenIds.Select(id => (JsonNode)id).ToArray());
        }

        if (TorchDtype is not null)
        {
            json["torch_dtype"] = TorchDtype;
        }

        switch (Family)
        {
            case ModelFamily.Mixtral:
                json["num_local_experts"] = NumExperts;
                json["intermediate_size"] = MoeIntermediateSize;
                break;
            case ModelFamily.Qwen2Moe:
                json["num_experts"] = NumExperts;
                json["moe_intermediate_size"] = MoeIntermediateSize;
                json["intermediate_size"] = DenseIntermediateSize;
                json["shared_expert_intermediate_size"] = SharedExpertIntermediateSize;
                json["norm_topk_prob"] = NormTopKProb;
                json["qkv_bias"] = AttentionBias;
                json["decoder_sparse_step"] = DecoderSparseStep;
                json["mlp_only_layers"] = new JsonArray(MlpOnlyLayers.Select(l => (JsonNode)l).ToArray());
                break;
            default:
                json["num_experts"] = NumExperts;
                json["moe_intermediate_size"] = MoeIntermediateSize;
                json["intermediate_size"] = DenseIntermediateSize;
                json["norm_topk_prob"] = NormTopKProb;
                json["attention_bias"] = AttentionBias;
                json["decoder_sparse_step"] = DecoderSparseStep;
                json["mlp_only_layers"] = new JsonArray(MlpOnlyLayers.Select(l => (JsonNode)l).ToArray());
                break;
        }

        return json;
    }

    private sealed class ConfigReader(JsonObject json, string source)
    {
        public string? String(string key) => json[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

        public int RequiredInt(string key) => Int(key) ?? throw new ModelFormatException($"{source}: missing \"{key}\"");

        public int? Int(string key)
        {
            var node = json[key];
            if (node is null)
            {
                return null;
            }

            if (JsonFields.TryInt(node, out var i))
            {
                return i;
            }

            throw new ModelFormatException($"{source}: \"{key}\" must be an integer (got {node.ToJsonString()})");
        }

        public double? Double(string key)
        {
            var node = json[key];
            if (node is null)
            {
                return null;
            }

            return JsonFields.TryNumber(node, out var d)
                ? d
                : throw new ModelFormatException($"{source}: \"{key}\" must be a number (got {node.ToJsonString()})");
        }

        public bool? Bool(string key)
        {
            var node = json[key];
            if (node is null)
            {
                return null;
            }

            return node is JsonValue v && v.TryGetValue<bool>(out var b)
                ? b
                : throw new ModelFormatException($"{source}: \"{key}\" must be true or false (got {node.ToJsonString()})");
        }

        public int[]? IntArray(string key)
        {
            var node = json[key];
            if (node is null)
            {
                return null;
            }

            if (node is not JsonArray array)
            {
                throw new ModelFormatException($"{source}: \"{key}\" must be an array of integers");
            }

            return array.Select(item => JsonFields.TryInt(item, out var i)
                ? i
                : throw new ModelFormatException($"{source}: \"{key}\" must be an array of integers")).ToArray();
        }

        public int[]? IntOrIntArray(string key) => json[key] switch
        {
            null => null,
            JsonArray => IntArray(key),
            _ => [Int(key)!.Value],
        };

        /// <summary><c>rope_parameters.rope_theta</c> (transformers 5) wins over top-level <c>rope_theta</c>.</summary>
        public double? RopeTheta()
        {
            if (json["rope_parameters"] is JsonObject parameters)
            {
                if (parameters["rope_type"] is JsonValue t && t.TryGetValue<string>(out var type) && type != "default")
                {
                    throw new ModelFormatException($"{source}: rope_parameters.rope_type \"{type}\" is not supported; only \"default\"");
                }

                if (JsonFields.TryNumber(parameters["rope_theta"], out var theta))
                {
                    return theta;
                }
            }

            if (json["rope_scaling"] is JsonObject scaling && scaling.Count > 0)
            {
                throw new ModelFormatException($"{source}: rope_scaling is not supported");
            }

            return Double("rope_theta");
        }
    }
}
