using System.Text.Json.Nodes;
using MoeDapr.Model;

namespace MoeDapr.Model.Tests;

public sealed class ModelConfigTests
{
    private static ModelConfig Parse(string json) => ModelConfig.Parse(JsonNode.Parse(json)!.AsObject());

    [Fact]
    public void Parse_MixtralConfig_ReadsMixtralFields()
    {
        // Mixtral-8x7B's config.json, abridged to the fields that matter.
        var config = Parse("""
            {"architectures":["MixtralForCausalLM"],"model_type":"mixtral","vocab_size":32000,"hidden_size":4096,
             "intermediate_size":14336,"num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,
             "num_local_experts":8,"num_experts_per_tok":2,"max_position_embeddings":32768,"rms_norm_eps":1e-05,
             "rope_theta":1000000.0,"tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2,"torch_dtype":"bfloat16"}
            """);

        Assert.Equal(ModelFamily.Mixtral, config.Family);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(8, config.NumExperts);
        Assert.Equal(2, config.NumExpertsPerToken);
        Assert.Equal(14336, config.MoeIntermediateSize);
        Assert.True(config.NormTopKProb);
        Assert.False(config.AttentionBias);
        Assert.Equal(1e6, config.RopeTheta);
        Assert.Equal(1, config.BosTokenId);
        Assert.Equal([2], config.EosTokenIds);
        Assert.Equal(32, config.MoeLayers.Count);
        Assert.Equal("bfloat16", config.TorchDtype);
    }

    [Fact]
    public void Parse_Qwen2MoeConfig_ReadsSharedExpertBiasAndSparseLayers()
    {
        var config = Parse("""
            {"model_type":"qwen2_moe","vocab_size":151936,"hidden_size":2048,"intermediate_size":5632,
             "moe_intermediate_size":1408,"shared_expert_intermediate_size":5632,"num_hidden_layers":24,
             "num_attention_heads":16,"num_key_value_heads":16,"num_experts":60,"num_experts_per_tok":4,
             "norm_topk_prob":false,"decoder_sparse_step":2,"mlp_only_layers":[5],"rope_theta":1000000.0,
             "max_position_embeddings":8192,"rms_norm_eps":1e-06,"bos_token_id":151643,"eos_token_id":151643}
            """);

        Assert.Equal(ModelFamily.Qwen2Moe, config.Family);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(5632, config.SharedExpertIntermediateSize);
        Assert.Equal(5632, config.DenseIntermediateSize);
        Assert.True(config.AttentionBias);
        Assert.False(config.NormTopKProb);
        // decoder_sparse_step 2: layers 1, 3, 5, ... are sparse, except layer 5 (mlp_only_layers).
        Assert.Equal(FeedForwardKind.Dense, config.FeedForwardKindOf(0));
        Assert.Equal(FeedForwardKind.Moe, config.FeedForwardKindOf(1));
        Assert.Equal(FeedForwardKind.Dense, config.FeedForwardKindOf(5));
        Assert.Equal(11, config.MoeLayers.Count);
    }

    [Fact]
    public void Parse_Qwen3MoeWithRopeParameters_ReadsThetaAndExplicitHeadDim()
    {
        var config = Parse("""
            {"model_type":"qwen3_moe","vocab_size":151936,"hidden_size":2048,"intermediate_size":6144,
             "moe_intermediate_size":768,"num_hidden_layers":48,"num_attention_heads":32,"num_key_value_heads":4,
             "head_dim":128,"num_experts":128,"num_experts_per_tok":8,"norm_topk_prob":true,
             "rope_parameters":{"rope_type":"default","rope_theta":5000000.0},"rope_theta":1000000.0,
             "max_position_embeddings":40960,"rms_norm_eps":1e-06,"eos_token_id":[151645,151643]}
            """);

        Assert.Equal(ModelFamily.Qwen3Moe, config.Family);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(5e6, config.RopeTheta);
        Assert.True(config.QkNorm);
        Assert.True(config.NormTopKProb);
        Assert.False(config.AttentionBias);
        Assert.Equal(0, config.SharedExpertIntermediateSize);
        Assert.Equal([151645, 151643], config.EosTokenIds);
    }

    [Fact]
    public void Parse_UnknownModelType_ListsSupportedTypes()
    {
        var error = Assert.Throws<ModelFormatException>(() => Parse("""{"model_type":"llama","vocab_size":10,"hidden_size":8}"""));

        Assert.Contains("unsupported model_type \"llama\"", error.Message);
        Assert.Contains("mixtral, qwen2_moe, qwen3_moe", error.Message);
    }

    [Fact]
    public void Parse_RopeTypeOtherThanDefault_IsRejectedByName()
    {
        var error = Assert.Throws<ModelFormatException>(() => Parse("""
            {"model_type":"qwen3_moe","vocab_size":10,"hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,
             "moe_intermediate_size":4,"num_experts":2,"num_experts_per_tok":1,"rope_parameters":{"rope_type":"yarn","rope_theta":1e6}}
            """));

        Assert.Contains("rope_type \"yarn\"", error.Message);
    }

    [Theory]
    [InlineData(ModelFamily.Mixtral)]
    [InlineData(ModelFamily.Qwen2Moe)]
    [InlineData(ModelFamily.Qwen3Moe)]
    public void ToJson_Preset_ParsesBackToTheSameConfig(ModelFamily family)
    {
        var config = ModelPresets.Create(family, ModelPreset.Demo);

        var parsed = ModelConfig.Parse(config.ToJson());

        Assert.Equal(config with { MlpOnlyLayers = [], EosTokenIds = [] }, parsed with { MlpOnlyLayers = [], EosTokenIds = [] });
        Assert.Equal(config.EosTokenIds, parsed.EosTokenIds);
        Assert.Equal(config.MlpOnlyLayers, parsed.MlpOnlyLayers);
    }

    [Fact]
    public void BenchPreset_HasTheDocumentedShape()
    {
        var config = ModelPresets.Create(ModelFamily.Mixtral, ModelPreset.Bench);

        Assert.Equal(
            (1024, 8, 16, 4, 16, 1408, 2, 32000),
            (config.HiddenSize, config.NumLayers, config.NumHeads, config.NumKvHeads, config.NumExperts, config.MoeIntermediateSize, config.NumExpertsPerToken, config.VocabSize));
    }
}
