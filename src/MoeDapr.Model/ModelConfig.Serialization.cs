using System.Text.Json.Nodes;

namespace MoeDapr.Model;

/// <summary>Writing a <c>config.json</c> with each family's own keys, as transformers would read it back.</summary>
public sealed partial record ModelConfig
{
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

        JsonFields.SetIntOrIntArray(json, "eos_token_id", EosTokenIds);

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
            default:
                // qwen2_moe and qwen3_moe share these keys; qwen2_moe adds a shared expert and names its bias qkv_bias.
                var qwen2 = Family == ModelFamily.Qwen2Moe;
                json["num_experts"] = NumExperts;
                json["moe_intermediate_size"] = MoeIntermediateSize;
                json["intermediate_size"] = DenseIntermediateSize;
                if (qwen2)
                {
                    json["shared_expert_intermediate_size"] = SharedExpertIntermediateSize;
                }

                json["norm_topk_prob"] = NormTopKProb;
                json[qwen2 ? "qkv_bias" : "attention_bias"] = AttentionBias;
                json["decoder_sparse_step"] = DecoderSparseStep;
                json["mlp_only_layers"] = new JsonArray(MlpOnlyLayers.Select(l => (JsonNode)l).ToArray());
                break;
        }

        return json;
    }
}
