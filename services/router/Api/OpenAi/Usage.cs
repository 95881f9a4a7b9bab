using System.Text.Json.Serialization;

namespace MoeDapr.Router.Api.OpenAi;

/// <summary>Token counts of a request.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PromptTokensDetails? PromptTokensDetails { get; init; }
}
