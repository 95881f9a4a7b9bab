using System.Text.Json.Nodes;

namespace MoeDapr.Model;

/// <summary>Typed reads of <c>config.json</c> keys whose errors name the file and the key.</summary>
internal sealed class ConfigReader(JsonObject json, string source)
{
    public string? String(string key) => json[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public int RequiredInt(string key) => Int(key) ?? throw new ModelFormatException($"{source}: missing \"{key}\"");

    public int? Int(string key) => JsonFields.Int(json, key, source);

    public double? Double(string key) => JsonFields.Double(json, key, source);

    public bool? Bool(string key) => JsonFields.Bool(json, key, source);

    public int[]? IntArray(string key)
    {
        var node = json[key];
        if (node is null)
        {
            return null;
        }

        if (node is not JsonArray array)
        {
            throw new ModelFormatException($"{source}: \"{key}\" must be an array of integers");
        }

        return array.Select(item => JsonFields.TryInt(item, out var i)
            ? i
            : throw new ModelFormatException($"{source}: \"{key}\" must be an array of integers")).ToArray();
    }

    public int[]? IntOrIntArray(string key) => json[key] switch
    {
        null => null,
        JsonArray => IntArray(key),
        _ => [Int(key)!.Value],
    };

    /// <summary><c>rope_parameters.rope_theta</c> (transformers 5) wins over top-level <c>rope_theta</c>.</summary>
    public double? RopeTheta()
    {
        if (json["rope_parameters"] is JsonObject parameters)
        {
            if (parameters["rope_type"] is JsonValue t && t.TryGetValue<string>(out var type) && type != "default")
            {
                throw new ModelFormatException($"{source}: rope_parameters.rope_type \"{type}\" is not supported; only \"default\"");
            }

            if (JsonFields.TryNumber(parameters["rope_theta"], out var theta))
            {
                return theta;
            }
        }

        if (json["rope_scaling"] is JsonObject scaling && scaling.Count > 0)
        {
            throw new ModelFormatException($"{source}: rope_scaling is not supported");
        }

        return Double("rope_theta");
    }
}
