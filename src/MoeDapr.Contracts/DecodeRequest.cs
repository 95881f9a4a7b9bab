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
