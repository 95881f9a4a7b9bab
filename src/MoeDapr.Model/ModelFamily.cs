namespace MoeDapr.Model;

/// <summary>The model families MoeDapr runs; each maps to a Hugging Face <c>model_type</c>.</summary>
public enum ModelFamily
{
    Mixtral,
    Qwen2Moe,
    Qwen3Moe,
}
