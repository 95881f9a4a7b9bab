using System.Text.Json.Nodes;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Tests;

/// <summary>Tiny configurations of each family (covering biases, shared experts, dense layers, qk-norm, tied embeddings).</summary>
internal static class TinyModels
{
    public static readonly string[] Families = ["mixtral", "qwen2_moe", "qwen3_moe"];

    // Round-tripped through text: config.json values arrive parsed, as numbers of JSON text.
    public static ModelConfig Config(string family) => ModelConfig.Parse((JsonObject)JsonNode.Parse(Json(family).ToJsonString())!);

    private static JsonObject Json(string family) => family switch
    {
        "mixtral" => new JsonObject
        {
            ["model_type"] = "mixtral", ["vocab_size"] = 96, ["hidden_size"] = 32, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 24,
            ["num_local_experts"] = 4, ["num_experts_per_tok"] = 2, ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 2048, ["rms_norm_eps"] = 1e-5,
        },
        "qwen2_moe" => new JsonObject
        {
            ["model_type"] = "qwen2_moe", ["vocab_size"] = 96, ["hidden_size"] = 32, ["num_hidden_layers"] = 3,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 40,
            ["moe_intermediate_size"] = 16, ["shared_expert_intermediate_size"] = 24, ["num_experts"] = 4,
            ["num_experts_per_tok"] = 2, ["norm_topk_prob"] = false, ["mlp_only_layers"] = new JsonArray(1),
            ["rope_theta"] = 10000.0, ["max_position_embeddings"] = 2048, ["rms_norm_eps"] = 1e-6,
        },
        _ => new JsonObject
        {
            ["model_type"] = "qwen3_moe", ["vocab_size"] = 96, ["hidden_size"] = 32, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 1, ["head_dim"] = 16, ["intermediate_size"] = 40,
            ["moe_intermediate_size"] = 16, ["num_experts"] = 8, ["num_experts_per_tok"] = 2, ["norm_topk_prob"] = true,
            ["decoder_sparse_step"] = 2, ["tie_word_embeddings"] = true,
            ["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 1000000.0 },
            ["max_position_embeddings"] = 2048, ["rms_norm_eps"] = 1e-6,
        },
    };

    /// <summary>Random weights large enough that logits and routing have clear winners (no near-ties).</summary>
    public static Dictionary<string, torch.Tensor> Weights(ModelConfig config, long seed = 7) =>
        RandomWeights.Create(config, new RandomWeightOptions { Seed = seed, InitStd = 0.25 });

    public static EngineOptions Options(int blockSize = 4) => new()
    {
        BlockSize = blockSize,
        NumBlocks = 256,
        MaxPrefillTokens = 64,
        MaxSequenceLength = 2048,
        Threads = 1,
    };

    public static Task<InferenceEngine> EngineAsync(string family, EngineOptions? options = null, ITextTokenizer? tokenizer = null)
    {
        var config = Config(family);
        return InferenceEngine.CreateAsync(options ?? Options(), config, new InMemoryWeightSource(Weights(config)), tokenizer);
    }

    public static int[] Prompt(int length, int salt = 0) =>
        Enumerable.Range(0, length).Select(i => ((i * 37) + (salt * 11) + 5) % 96).ToArray();
}
