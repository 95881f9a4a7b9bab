using System.Text.Json.Serialization;

namespace MoeDapr.Router.Api.OpenAi;

/// <summary><c>text_completion</c> (whole answer or stream chunk; chunks carry usage only in the last one, when asked).</summary>
public sealed record CompletionResponse(
    string Id, string Object, long Created, string Model, IReadOnlyList<CompletionChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);
