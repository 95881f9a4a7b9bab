using System.Text.Json;
using static MoeDapr.Router.Api.JsonFields;

namespace MoeDapr.Router.Api;

/// <summary>
/// Fields a client may send that this router cannot honour yet. Answering them with a 400 that names the field is
/// better than ignoring them: a client that asks for JSON output or a tool call and silently gets prose breaks later.
/// </summary>
internal static class RequestRefusals
{
    /// <summary>Throws <see cref="RequestValidationException"/> for the first refused field set to a value that matters.</summary>
    internal static void Check(JsonElement root)
    {
        if (Property(root, "suffix") is { } suffix && !(suffix.ValueKind == JsonValueKind.String && suffix.GetString()!.Length == 0))
        {
            throw Invalid("suffix is not supported.", "suffix", "unsupported_parameter");
        }

        if (Property(root, "tools") is { } tools && !(tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() == 0))
        {
            throw Invalid("tools are not supported.", "tools", "unsupported_parameter");
        }

        if (Property(root, "response_format") is { } format)
        {
            var type = format.ValueKind == JsonValueKind.Object ? OptionalString(format, "type", "response_format.type") : null;
            if (type != "text")
            {
                throw Invalid($"response_format {type ?? format.ValueKind.ToString()} is not supported; only \"text\" is.", "response_format", "unsupported_parameter");
            }
        }
    }
}
