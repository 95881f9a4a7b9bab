using MoeDapr.Contracts;

namespace MoeDapr.Engine;

/// <summary>One generated token; <see cref="FinishReason"/> is set on a sequence's last output.</summary>
/// <param name="TokenId">The token id, or -1 on an abort that carries no token.</param>
/// <param name="Logprob">Log-probability of the token (always computed; <see cref="Sample"/> carries it only when asked for).</param>
public sealed record TokenOutput(int TokenId, float Logprob, IReadOnlyList<TokenLogprob> TopLogprobs, FinishReason? FinishReason)
{
    /// <summary>The token as the wire carries it: logprobs only when the request's <see cref="SamplingParams.Logprobs"/> asked.</summary>
    public TokenSample Sample { get; init; } = new() { TokenId = TokenId };

    /// <summary>The stop string whose match ended the sequence at this token, else null (a stop token or a limit ended it, or it goes on).</summary>
    public string? StopString { get; init; }
}

/// <summary>A prompt to prefill.</summary>
public sealed record PrefillRequest(string RequestId, IReadOnlyList<int> PromptTokens, SamplingParams Sampling);

/// <summary>
/// The result of prefilling one prompt: its first token, the seed its draws use (pass it on to the decode
/// side), and a handle to its KV (null when the first token already finished the sequence).
/// </summary>
public sealed record PrefillResult(string RequestId, TokenOutput FirstToken, long Seed, EngineKvHandle? Kv, int CachedTokens = 0);

/// <summary>
/// A sequence to generate. Without <see cref="Kv"/> the engine prefills the prompt itself. With it (from
/// <see cref="InferenceEngine.PrefillAsync"/> or <see cref="InferenceEngine.ImportKvAsync"/>) the prompt's KV is
/// reused and <see cref="FirstToken"/> — already returned by the prefill — is the next input; it is not
/// yielded again, and generation continues from output index 1.
/// </summary>
public sealed record GenerateRequest
{
    public required string RequestId { get; init; }
    public required IReadOnlyList<int> PromptTokens { get; init; }
    public required SamplingParams Sampling { get; init; }
    public EngineKvHandle? Kv { get; init; }
    public int? FirstToken { get; init; }
}

/// <summary>A snapshot of the engine's load.</summary>
public sealed record EngineStats
{
    public int Running { get; init; }
    public int Waiting { get; init; }
    public int KvBlocksUsed { get; init; }
    public int KvBlocksTotal { get; init; }
    public int KvHandles { get; init; }
    public long PrefixCacheQueries { get; init; }
    public long PrefixCacheHits { get; init; }
    public long PromptTokens { get; init; }
    public long GeneratedTokens { get; init; }
    public long Steps { get; init; }

    /// <summary>Native tensors alive that the engine thread created (TorchSharp's per-thread statistics); flat in steady state.</summary>
    public long LiveTensors { get; init; }

    /// <summary>Prompt plus generated tokens computed per second over the last few seconds.</summary>
    public double TokensPerSecond { get; init; }
}

/// <summary>Token counts of one MoE layer since load, and its current placement.</summary>
/// <param name="ExpertTokens">Per logical expert: top-k assignments routed to it.</param>
/// <param name="RankTokens">Per EP rank: assignments it computed.</param>
/// <param name="Phy2Log">Logical expert of each physical slot.</param>
public sealed record ExpertLoad(int Layer, long[] ExpertTokens, long[] RankTokens, int[] Phy2Log);

/// <summary>Thrown when the engine's bounded queue is full; callers should retry later (HTTP 429).</summary>
public sealed class EngineOverloadedException(string message) : Exception(message);
