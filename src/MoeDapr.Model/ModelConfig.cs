namespace MoeDapr.Model;

/// <summary>
/// The architecture of one checkpoint, read from Hugging Face <c>config.json</c> with the defaults of
/// the matching transformers configuration class.
/// </summary>
public sealed partial record ModelConfig
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
}
