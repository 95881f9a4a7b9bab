using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeDapr.Model;

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

    /// <summary>Parses the JSON object in the file at <paramref name="path"/> (which the caller found to exist).</summary>
    public static JsonObject ReadObject(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: invalid JSON: {e.Message}", e);
        }

        return node as JsonObject ?? throw new ModelFormatException($"{path}: expected a JSON object");
    }

    /// <summary>Writes token ids as Hugging Face does: one id as a number, several as a list, none not at all.</summary>
    public static void SetIntOrIntArray(JsonObject json, string key, IReadOnlyList<int> ids)
    {
        if (ids.Count == 1)
        {
            json[key] = ids[0];
        }
        else if (ids.Count > 1)
        {
            json[key] = new JsonArray(ids.Select(id => (JsonNode)id).ToArray());
        }
    }
}
