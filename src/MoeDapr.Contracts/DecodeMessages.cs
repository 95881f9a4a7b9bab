using System.Text.Json.Serialization;

namespace MoeDapr.Contracts;

/// <summary>
/// Body of <see cref="WorkerMethods.DecodeGenerate"/>. Three modes:
/// <list type="bullet">
/// <item><see cref="KvHandle"/> and <see cref="FirstToken"/> (disaggregated): import the prompt's KV blocks from
/// kv-transfer (and release them there), take <see cref="FirstToken"/> as output 0, stream from output index 1.</item>
/// <item><see cref="FirstToken"/> only (the KV path failed after the client already got the first token): prefill
/// <see cref="PromptTokenIds"/> locally, take <see cref="FirstToken"/> as output 0 without sampling it, stream from index 1.</item>
/// <item>neither (local prefill: short or cached prompts, or no healthy prefill path): prefill locally, sample output 0
/// and stream from index 0.</item>
/// </list>
/// Rule of thumb: decode streams from index 1 whenever <see cref="FirstToken"/> is given, from 0 otherwise.
/// </summary>
public sealed record DecodeRequest
{
    public required string RequestId { get; init; }

    /// <summary>The full prompt (decode uses it for its prefix cache, and to prefill locally).</summary>
    public required IReadOnlyList<int> PromptTokenIds { get; init; }

    public required SamplingParams Sampling { get; init; }

    /// <summary>Output index 0 as prefill sampled it; null when decode is to sample it.</summary>
    public TokenSample? FirstToken { get; init; }

    /// <summary>kv-transfer handle from <see cref="PrefillSequenceResult.KvHandle"/>; null in local-prefill mode.</summary>
    public string? KvHandle { get; init; }

    /// <summary>Prompt tokens prefill found in its prefix cache (reported back in the done event).</summary>
    public int CachedTokens { get; init; }

    public RequestPriority Priority { get; init; } = RequestPriority.Normal;

    /// <summary>Unix milliseconds after which the router has given up; decode ends the sequence with <c>abort</c>.</summary>
    public long? DeadlineUnixMs { get; init; }

    [JsonIgnore]
    public bool IsLocalPrefill => KvHandle is null;
}

/// <summary>Body of <see cref="WorkerMethods.DecodeAbort"/>.</summary>
public sealed record AbortRequest(string RequestId);

/// <summary>Kinds of lines in a decode stream.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DecodeEventKind>))]
public enum DecodeEventKind
{
    /// <summary>One generated token.</summary>
    [JsonStringEnumMemberName("token")]
    Token,

    /// <summary>The sequence ended normally; always the last line.</summary>
    [JsonStringEnumMemberName("done")]
    Done,

    /// <summary>The sequence failed; always the last line.</summary>
    [JsonStringEnumMemberName("error")]
    Error,
}

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
