namespace MoeDapr.Contracts;

/// <summary>
/// How one sequence picks its tokens; the same object goes to prefill (first token) and decode (the rest).
/// Seeded sampling: output token <c>i</c> (0 = the first, sampled by prefill) is drawn with a generator seeded
/// from (<see cref="Seed"/>, <c>i</c>), so prefill and decode need no shared generator state and a request gives
/// the same tokens on the disaggregated and the local-prefill path.
/// </summary>
public sealed record SamplingParams
{
    /// <summary>Output tokens at most, the first token included; at least 1.</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>0 means greedy (argmax); otherwise logits are divided by it. Range [0, 2].</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Nucleus mass in (0, 1]; 1 disables it.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep the k most likely tokens; 0 disables it.</summary>
    public int TopK { get; init; }

    /// <summary>OpenAI semantics over the output tokens so far; range [-2, 2].</summary>
    public float PresencePenalty { get; init; }

    /// <summary>OpenAI semantics over the output tokens so far; range [-2, 2].</summary>
    public float FrequencyPenalty { get; init; }

    public long? Seed { get; init; }

    /// <summary>Token ids that end the sequence besides the model's EOS ids; the stop token is part of the output.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>
    /// Stop strings. The engine ends the sequence once its detokenized output contains one (the token that completes
    /// it is still sent); the router truncates the client's text before the first match, as OpenAI does.
    /// </summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Keep generating past EOS (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Null: no logprobs. k ≥ 0: the chosen token's logprob plus the k most likely alternatives (k ≤ 20).</summary>
    public int? Logprobs { get; init; }

    /// <summary>Greedy decoding of at most <paramref name="maxTokens"/> tokens.</summary>
    public static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0f, MaxTokens = maxTokens };

    /// <summary>
    /// <see cref="Validate()"/>, plus what needs the model: stop token ids inside a <paramref name="vocabSize"/>-token
    /// vocabulary, no empty stop string.
    /// </summary>
    public string? Validate(int vocabSize)
    {
        if (Validate() is { } problem)
        {
            return problem;
        }

        if (StopTokenIds.Any(t => t < 0 || t >= vocabSize))
        {
            return $"stopTokenIds: ids must be in [0, {vocabSize})";
        }

        return StopStrings.Any(string.IsNullOrEmpty) ? "stopStrings: must not be empty" : null;
    }

    /// <summary>The first invalid field as "field: reason", or null when every field is in range.</summary>
    public string? Validate()
    {
        if (MaxTokens < 1)
        {
            return "maxTokens: must be at least 1";
        }

        if (!(Temperature >= 0f && Temperature <= 2f))
        {
            return "temperature: must be in [0, 2]";
        }

        if (!(TopP > 0f && TopP <= 1f))
        {
            return "topP: must be in (0, 1]";
        }

        if (TopK < 0)
        {
            return "topK: must be 0 (off) or positive";
        }

        if (!(PresencePenalty >= -2f && PresencePenalty <= 2f))
        {
            return "presencePenalty: must be in [-2, 2]";
        }

        if (!(FrequencyPenalty >= -2f && FrequencyPenalty <= 2f))
        {
            return "frequencyPenalty: must be in [-2, 2]";
        }

        if (Logprobs is < 0 or > 20)
        {
            return "logprobs: must be in [0, 20]";
        }

        return null;
    }
}
