using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tokenization;

/// <summary>The tokenizer files of a generated checkpoint, as Hugging Face lays them out.</summary>
public sealed record TokenizerFiles(JsonObject TokenizerJson, JsonObject TokenizerConfig)
{
    public const string TokenizerConfigFileName = "tokenizer_config.json";
}
