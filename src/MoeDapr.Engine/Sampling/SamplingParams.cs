namespace MoeDapr.Engine.Sampling;

/// <summary>How a sequence picks its next tokens and when it stops (OpenAI / vLLM semantics).</summary>
public sealed record SamplingParams
{
    /// <summary>0 is greedy (argmax).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Subtracted once from the logit of every token already generated.</summary>
    public double PresencePenalty { get; init; }

    /// <summary>Subtracted per occurrence from the logit of every token already generated.</summary>
    public double FrequencyPenalty { get; init; }

    /// <summary>Seed of the counter-based draws; null lets the engine pick one (reported back).</summary>
    public ulong? Seed { get; init; }

    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 16;

    /// <summary>Token ids that end generation (in addition to the model's EOS unless <see cref="IgnoreEos"/>).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>Texts that end generation when the decoded output contains them (needs a tokenizer).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    public bool IgnoreEos { get; init; }

    /// <summary>Alternatives reported with each token's log-probability; 0 reports only the chosen token's.</summary>
    public int TopLogprobs { get; init; }

    public static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public void Validate(int vocabSize)
    {
        static void Require(bool ok, string field, string message)
        {
            if (!ok)
            {
                throw new ArgumentException($"{field}: {message}", field);
            }
        }

        Require(Temperature >= 0 && double.IsFinite(Temperature), "temperature", "must be a finite number ≥ 0");
        Require(TopK >= 0, "top_k", "must be ≥ 0");
        Require(TopP is > 0 and <= 1, "top_p", "must be in (0, 1]");
        Require(PresencePenalty is >= -2 and <= 2, "presence_penalty", "must be in [-2, 2]");
        Require(FrequencyPenalty is >= -2 and <= 2, "frequency_penalty", "must be in [-2, 2]");
        Require(MaxTokens > 0, "max_tokens", "must be positive");
        Require(StopTokenIds.All(t => t >= 0 && t < vocabSize), "stop_token_ids", $"ids must be in [0, {vocabSize})");
        Require(StopStrings.All(s => s.Length > 0), "stop", "stop strings must not be empty");
        Require(TopLogprobs is >= 0 and <= 20, "top_logprobs", "must be in [0, 20]");
    }
}
