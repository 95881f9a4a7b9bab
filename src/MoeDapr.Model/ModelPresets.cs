namespace MoeDapr.Model;

/// <summary>The architecture of each generated checkpoint, per family and preset.</summary>
public static class ModelPresets
{
    public static IReadOnlyList<string> PresetNames { get; } = ["tiny", "demo", "bench"];

    public static bool TryParsePreset(string name, out ModelPreset preset)
    {
        switch (name)
        {
            case "tiny":
                preset = ModelPreset.Tiny;
                return true;
            case "demo":
                preset = ModelPreset.Demo;
                return true;
            case "bench":
                preset = ModelPreset.Bench;
                return true;
            default:
                preset = default;
                return false;
        }
    }

    /// <summary>The config of a <paramref name="preset"/>-sized checkpoint of <paramref name="family"/>.</summary>
    public static ModelConfig Create(ModelFamily family, ModelPreset preset, string torchDtype = "float32")
    {
        var (vocab, hidden, layers, heads, kvHeads, headDim, experts, topK, moeInter, maxPositions) = preset switch
        {
            ModelPreset.Tiny => (512, 64, 2, 4, 2, 16, 4, 2, 32, 2048),
            ModelPreset.Demo => (8192, 256, 4, 8, 4, 32, 8, 2, 256, 4096),
            _ => (32000, 1024, 8, 16, 4, 64, 16, 2, 1408, 8192),
        };

        // qwen3_moe declares head_dim explicitly; the tiny preset makes it differ from hidden/heads so that
        // an engine which derives it instead of reading it fails visibly.
        if (family == ModelFamily.Qwen3Moe && preset == ModelPreset.Tiny)
        {
            headDim = 32;
        }

        var (bos, eos) = family == ModelFamily.Mixtral
            ? ((int?)1, new[] { 2 })
            : ((int?)(vocab - 3), new[] { vocab - 3 });

        return new ModelConfig
        {
            Family = family,
            ModelType = ModelTypeOf(family),
            VocabSize = vocab,
            HiddenSize = hidden,
            NumLayers = layers,
            NumHeads = heads,
            NumKvHeads = kvHeads,
            HeadDim = headDim,
            MaxPositionEmbeddings = maxPositions,
            RmsNormEps = family == ModelFamily.Mixtral ? 1e-5 : 1e-6,
            RopeTheta = 1e6,
            TieWordEmbeddings = false,
            NumExperts = experts,
            NumExpertsPerToken = topK,
            MoeIntermediateSize = moeInter,
            DenseIntermediateSize = family == ModelFamily.Mixtral ? moeInter : moeInter * 4,
            // Qwen1.5-MoE's shared expert is four routed experts wide (5632 = 4 × 1408).
            SharedExpertIntermediateSize = family == ModelFamily.Qwen2Moe ? moeInter * 4 : 0,
            NormTopKProb = family != ModelFamily.Qwen2Moe,
            AttentionBias = family == ModelFamily.Qwen2Moe,
            QkNorm = family == ModelFamily.Qwen3Moe,
            DecoderSparseStep = 1,
            MlpOnlyLayers = [],
            BosTokenId = bos,
            EosTokenIds = eos,
            TorchDtype = torchDtype,
        };
    }

    /// <summary>The Hugging Face <c>model_type</c> of a family.</summary>
    public static string ModelTypeOf(ModelFamily family) =>
        ModelConfig.SupportedModelTypes.First(kv => kv.Value == family).Key;
}
