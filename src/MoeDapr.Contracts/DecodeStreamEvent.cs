using System.Text.Json.Serialization;

namespace MoeDapr.Contracts;

/// <summary>
/// One line of a decode stream (see <see cref="DecodeStream"/>). Examples:
/// <code>
/// {"event":"token","index":1,"token":{"tokenId":42,"logprob":-0.31}}
/// {"event":"done","finishReason":"length","promptTokens":12,"completionTokens":16,"cachedTokens":0}
/// {"event":"error","error":{"code":"kv_not_found","message":"handle 7f.. expired"}}
/// </code>
/// A stream carries token events in index order and ends with exactly one done or error event; a body that ends
/// without one was cut off (the worker died) and counts as a failure.
/// </summary>
public sealed record DecodeStreamEvent
{
    [JsonPropertyName("event")]
    public required DecodeEventKind Kind { get; init; }

    /// <summary>Output index of <see cref="Token"/> (0 = first output token).</summary>
    public int? Index { get; init; }

    public TokenSample? Token { get; init; }

    public FinishReason? FinishReason { get; init; }

    /// <summary>The stop token id that ended the sequence, when one did.</summary>
    public int? StopTokenId { get; init; }

    public int? PromptTokens { get; init; }

    /// <summary>All output tokens, the prefill's first token included.</summary>
    public int? CompletionTokens { get; init; }

    public int? CachedTokens { get; init; }

    public WorkerError? Error { get; init; }

    public static DecodeStreamEvent ForToken(int index, TokenSample token) =>
        new() { Kind = DecodeEventKind.Token, Index = index, Token = token };

    public static DecodeStreamEvent ForDone(FinishReason reason, int promptTokens, int completionTokens, int cachedTokens, int? stopTokenId = null) =>
        new()
        {
            Kind = DecodeEventKind.Done,
            FinishReason = reason,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            CachedTokens = cachedTokens,
            StopTokenId = stopTokenId,
        };

    public static DecodeStreamEvent ForError(string code, string message) =>
        new() { Kind = DecodeEventKind.Error, Error = new WorkerError(code, message) };
}
