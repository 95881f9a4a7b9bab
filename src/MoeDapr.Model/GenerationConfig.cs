using System.Text.Json;
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

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: invalid JSON: {e.Message}", e);
        }

        return node is JsonObject obj ? Parse(obj, path) : throw new ModelFormatException($"{path}: expected a JSON object");
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

        if (PadTokenId is { } pad)
        {
            json["pad_token_id"] = pad;
        }

        if (DoSample is { } doSample)
        {
            json["do_sample"] = doSample;
        }

        if (Temperature is { } temperature)
        {
            json["temperature"] = temperature;
        }

        if (TopP is { } topP)
        {
            json["top_p"] = topP;
        }

        if (TopK is { } topK)
        {
            json["top_k"] = topK;
        }

        if (MaxNewTokens is { } maxNewTokens)
        {
            json["max_new_tokens"] = maxNewTokens;
        }

        if (RepetitionPenalty is { } repetitionPenalty)
        {
            json["repetition_penalty"] = repetitionPenalty;
        }

        return json;
    }
}

/// <summary>Typed reads of optional JSON fields with errors that name the file and key.</summary>
internal static class JsonFields
{
    /// <summary>
    /// Reads a JSON number whether the node was parsed from text or built in memory (a <c>JsonValue</c> holding an
    /// <c>int</c> does not convert to <c>double</c> through <c>TryGetValue</c>).
    /// </summary>
    public static bool TryNumber(JsonNode? node, out double value)
    {
        value = 0;
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            && double.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value);
    }

    /// <summary>An integral JSON number within the range of int.</summary>
    public static bool TryInt(JsonNode? node, out int value)
    {
        value = 0;
        if (TryNumber(node, out var d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue)
        {
            value = (int)d;
            return true;
        }

        return false;
    }

    public static string? String(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw new ModelFormatException($"{source}: \"{key}\" must be a string (got {other.ToJsonString()})"),
    };

    public static int? Int(JsonObject json, string key, string source)
    {
        var node = json[key];
        if (node is null)
        {
            return null;
        }

        if (TryInt(node, out var i))
        {
            return i;
        }

        throw new ModelFormatException($"{source}: \"{key}\" must be an integer (got {node.ToJsonString()})");
    }

    public static double? Double(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        var v when TryNumber(v, out var d) => d,
        var other => throw new ModelFormatException($"{source}: \"{key}\" must be a number (got {other.ToJsonString()})"),
    };

    public static bool? Bool(JsonObject json, string key, string source) => json[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        var other => throw new ModelFormatException($"{source}: \"{key}\" must be true or false (got {other.ToJsonString()})"),
    };

    public static int[]? IntOrIntArray(JsonObject json, string key, string source)
    {
        switch (json[key])
        {
            case null:
                return null;
            case JsonArray array:
                return array.Select(item => TryInt(item, out var i)
                    ? i
                    : throw new ModelFormatException($"{source}: \"{key}\" must be an integer or a list of integers")).ToArray();
            default:
                return [Int(json, key, source)!.Value];
        }
    }
}
