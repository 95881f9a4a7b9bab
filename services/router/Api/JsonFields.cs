using System.Text.Json;
using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Api;

/// <summary>Typed reads of request fields; a wrong type or range is a 400 naming the field.</summary>
internal static class JsonFields
{
    internal static void Range(double value, double min, double max, string param)
    {
        if (!(value >= min && value <= max))
        {
            throw Invalid($"{param} must be in [{min}, {max}], got {value}.", param);
        }
    }

    internal static bool Has(JsonElement obj, string name) => Property(obj, name) is not null;

    /// <summary>The property, or null when absent or JSON null (OpenAI treats null as "use the default").</summary>
    internal static JsonElement? Property(JsonElement obj, string name)
    {
        try
        {
            return obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
        }
        catch (InvalidOperationException)
        {
            // The lookup unescapes the names it passes: one with a lone surrogate escape cannot be read.
            throw Invalid("A property name of the request is not valid Unicode text (a lone surrogate or invalid UTF-8).", null, InvalidText);
        }
    }

    internal static string RequiredString(JsonElement obj, string name, string? param = null) =>
        OptionalString(obj, name, param) ?? throw Invalid($"{param ?? name} is required.", param ?? name, "missing_required_parameter");

    internal static string? OptionalString(JsonElement obj, string name, string? param = null) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => Text(v, param ?? name),
        _ => throw WrongType(param ?? name, "a string"),
    };

    internal static bool? OptionalBool(JsonElement obj, string name, string? param = null) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw WrongType(param ?? name, "a boolean"),
    };

    internal static double? OptionalNumber(JsonElement obj, string name) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v => v.GetDouble(),
        _ => throw WrongType(name, "a number"),
    };

    internal static int? OptionalInt(JsonElement obj, string name) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt32(out var i) => i,
        _ => throw WrongType(name, "an integer"),
    };

    internal static long? OptionalLong(JsonElement obj, string name) => Property(obj, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var i) => i,
        _ => throw WrongType(name, "an integer"),
    };

    /// <summary>Code of a 400 for text that is not Unicode (a lone surrogate escape, invalid UTF-8).</summary>
    internal const string InvalidText = "invalid_text";

    /// <summary>A string value; a lone surrogate escape (<c>\ud800</c>) or invalid UTF-8 is the client's 400 naming <paramref name="param"/>.</summary>
    internal static string Text(JsonElement value, string param)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Invalid($"{param} is not valid Unicode text (a lone surrogate or invalid UTF-8).", param, InvalidText);
        }
    }

    /// <summary>A property's name; one that is not Unicode text is the client's 400 (<see cref="InvalidText"/>).</summary>
    internal static string Name(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw Invalid("A property name is not valid Unicode text (a lone surrogate or invalid UTF-8).", null, InvalidText);
        }
    }

    internal static RequestValidationException WrongType(string param, string expected) =>
        Invalid($"{param} must be {expected}.", param, "invalid_type");

    internal static RequestValidationException Invalid(string message, string? param, string? code = null) =>
        new(ApiError.BadRequest(message, param, code));
}
