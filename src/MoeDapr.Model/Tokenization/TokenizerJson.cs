using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MoeDapr.Model.Tokenization;

/// <summary>Typed reads of tokenizer.json nodes; every error names the file and the field.</summary>
internal static class TokenizerJson
{
    public static string TypeOf(JsonNode node, string what, string source) =>
        node is JsonObject obj && obj["type"] is JsonValue v && v.TryGetValue<string>(out var type)
            ? type
            : throw new ModelFormatException($"{source}: {what} must be an object with a \"type\"");

    public static JsonArray Array(JsonNode node, string key, string source) =>
        node[key] as JsonArray ?? throw new ModelFormatException($"{source}: \"{key}\" must be an array");

    public static string? String(JsonNode node, string key, string source) => node[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw new ModelFormatException($"{source}: \"{key}\" must be a string (got {other.ToJsonString()})"),
    };

    public static string RequiredString(JsonNode node, string key, string source) =>
        String(node, key, source) ?? throw new ModelFormatException($"{source}: missing \"{key}\"");

    public static bool? Bool(JsonNode node, string key, string source) => node[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        var other => throw new ModelFormatException($"{source}: \"{key}\" must be true or false (got {other.ToJsonString()})"),
    };

    public static int? Int(JsonNode node, string key, string source) => node[key] switch
    {
        null => null,
        var v when JsonFields.TryInt(v, out var i) => i,
        var other => throw new ModelFormatException($"{source}: \"{key}\" must be an integer (got {other.ToJsonString()})"),
    };

    /// <summary>A <c>pattern</c> field: <c>{"String": "..."}</c> or <c>{"Regex": "..."}</c>.</summary>
    public static (string Pattern, bool IsRegex) Pattern(JsonNode node, string source)
    {
        var pattern = node["pattern"];
        if (pattern?["Regex"] is JsonValue regex && regex.TryGetValue<string>(out var r))
        {
            return (r, true);
        }

        if (pattern?["String"] is JsonValue text && text.TryGetValue<string>(out var s))
        {
            return (s, false);
        }

        throw new ModelFormatException($"{source}: \"pattern\" must be {{\"String\": ...}} or {{\"Regex\": ...}}");
    }

    public static Regex CompileRegex(string pattern, string source)
    {
        try
        {
            return new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(10));
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"{source}: regex {pattern} is not supported: {e.Message}", e);
        }
    }
}
