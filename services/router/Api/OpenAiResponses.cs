using System.Text.Json;
using System.Text.Json.Serialization;

namespace MoeDapr.Router.Api;

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

/// <summary><c>{"error": {...}}</c>.</summary>
public sealed record ErrorResponse(ErrorBody Error);

/// <summary>OpenAI's error object; <c>param</c> and <c>code</c> are null when they do not apply.</summary>
public sealed record ErrorBody(string Message, string Type, string? Param, string? Code);

/// <summary>Token counts of a request.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PromptTokensDetails? PromptTokensDetails { get; init; }
}

/// <summary>Prompt tokens served from a prefix cache.</summary>
public sealed record PromptTokensDetails(int CachedTokens);

/// <summary><c>text_completion</c> (whole answer or stream chunk; chunks carry usage only in the last one, when asked).</summary>
public sealed record CompletionResponse(
    string Id, string Object, long Created, string Model, IReadOnlyList<CompletionChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);

/// <summary>A completions choice.</summary>
public sealed record CompletionChoice(int Index, string Text, CompletionLogprobs? Logprobs, string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? PromptTokenIds { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? TokenIds { get; init; }
}

/// <summary>Legacy completions logprobs: parallel arrays per output token.</summary>
public sealed record CompletionLogprobs(
    IReadOnlyList<string> Tokens, IReadOnlyList<float?> TokenLogprobs, IReadOnlyList<IReadOnlyDictionary<string, float>?> TopLogprobs, IReadOnlyList<int> TextOffset);

/// <summary><c>chat.completion</c>.</summary>
public sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage? Usage);

/// <summary>A chat choice.</summary>
public sealed record ChatChoice(int Index, ChatMessageOut Message, ChatLogprobs? Logprobs, string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? PromptTokenIds { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? TokenIds { get; init; }
}

/// <summary>The assistant's message.</summary>
public sealed record ChatMessageOut(string Role, string Content);

/// <summary><c>chat.completion.chunk</c>; usage only in the last chunk, when asked.</summary>
public sealed record ChatCompletionChunk(
    string Id, string Object, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage);

/// <summary>A chat stream choice.</summary>
public sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? PromptTokenIds { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? TokenIds { get; init; }
}

/// <summary>What a chat chunk adds; the first carries the role, the last is empty.</summary>
public sealed record ChatDelta
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Content { get; init; }
}

/// <summary>Chat logprobs: one entry per output token.</summary>
public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

/// <summary>One token's logprob with its UTF-8 bytes and the alternatives.</summary>
public sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);

/// <summary>An alternative token.</summary>
public sealed record ChatTopLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes);

/// <summary><c>GET /v1/models</c>.</summary>
public sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);

/// <summary>One served model (<c>max_model_len</c> as vLLM reports it).</summary>
public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, int MaxModelLen);
