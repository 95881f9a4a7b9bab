namespace MoeDapr.Router.Options;

/// <summary>The served model (<c>Model</c>, the section every MoeDapr service reads its checkpoint folder from).</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>The OpenAI <c>model</c> name clients must send; defaults to the checkpoint folder's name.</summary>
    public string? Name { get; set; }

    /// <summary>Hugging Face checkpoint folder (config.json, tokenizer.json) the workers serve.</summary>
    public string? Path { get; set; }

    /// <summary>Prompt plus output tokens at most; 0 takes <c>max_position_embeddings</c> from config.json.</summary>
    public int ContextLength { get; set; }
}
