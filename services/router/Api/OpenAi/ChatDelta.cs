using System.Text.Json.Serialization;

namespace MoeDapr.Router.Api.OpenAi;

/// <summary>What a chat chunk adds; the first carries the role, the last is empty.</summary>
public sealed record ChatDelta
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Content { get; init; }
}
