using System.Text.Json;

namespace MoeDapr.Router.Api.OpenAi;

/// <summary>JSON settings of the OpenAI shapes: snake_case, nulls written (OpenAI sends <c>"logprobs": null</c>).</summary>
public static class OpenAiJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
