using System.Text.Json.Nodes;

namespace MoeDapr.Model;

/// <summary>
/// Token ids and sampling defaults of a model, from Hugging Face <c>generation_config.json</c>
/// (each field null when the file does not set it).
/// </summary>
public sealed record GenerationConfig
{
    public const string FileName = "generation_config.json";

    public int? BosTokenId { get; init; }

    /// <summary>Ids that end generation (<c>eos_token_id</c>, a number or a list).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public int? PadTokenId { get; init; }
    public bool? DoSample { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopK { get; init; }
    public int? MaxNewTokens { get; init; }
    public double? RepetitionPenalty { get; init; }

    /// <summary>Reads <c>generation_config.json</c> from <paramref name="modelDir"/>; null when the file is absent.</summary>
    public static GenerationConfig? Load(string modelDir)
    {
        var path = Path.Combine(modelDir, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        return Parse(JsonFields.ReadObject(path), path);
    }

    /// <summary>Parses a generation config object; <paramref name="source"/> names it in error messages.</summary>
    public static GenerationConfig Parse(JsonObject json, string source = FileName) => new()
    {
        BosTokenId = JsonFields.Int(json, "bos_token_id", source),
        EosTokenIds = JsonFields.IntOrIntArray(json, "eos_token_id", source) ?? [],
        PadTokenId = JsonFields.Int(json, "pad_token_id", source),
        DoSample = JsonFields.Bool(json, "do_sample", source),
        Temperature = JsonFields.Double(json, "temperature", source),
        TopP = JsonFields.Double(json, "top_p", source),
        TopK = JsonFields.Int(json, "top_k", source),
        MaxNewTokens = JsonFields.Int(json, "max_new_tokens", source),
        RepetitionPenalty = JsonFields.Double(json, "repetition_penalty", source),
    };

    /// <summary>The <c>generation_config.json</c> object, with only the fields that are set.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        void SetIfPresent(string key, JsonNode? value)
        {
            if (value is not null)
            {
                json[key] = value;
            }
        }

        SetIfPresent("bos_token_id", BosTokenId);
        JsonFields.SetIntOrIntArray(json, "eos_token_id", EosTokenIds);
        SetIfPresent("pad_token_id", PadTokenId);
        SetIfPresent("do_sample", DoSample);
        SetIfPresent("temperature", Temperature);
        SetIfPresent("top_p", TopP);
        SetIfPresent("top_k", TopK);
        SetIfPresent("max_new_tokens", MaxNewTokens);
        SetIfPresent("repetition_penalty", RepetitionPenalty);
        return json;
    }
}
