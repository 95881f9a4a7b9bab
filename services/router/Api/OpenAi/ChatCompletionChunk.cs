using System.Text.Json.Serialization;

namespace MoeDapr.Router.Api.OpenAi;

/// <summary><c>chat.completion.chunk</c>; usage only in the last chunk, when asked.</summary>
public sealed record ChatCompletionChunk(
    string Id, string Object, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);
