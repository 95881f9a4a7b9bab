using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeDapr.Contracts;

/// <summary>The JSON settings of every contract message: camelCase names, nulls omitted, enums as their lowercase names.</summary>
public static class ContractJson
{
    /// <summary>Shared, read-only options (what <c>DaprClient</c> and ASP.NET Core use by default, plus null omission).</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
