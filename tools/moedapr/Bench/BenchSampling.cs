using MoeDapr.Contracts;

namespace MoeDapr.Cli.Bench;

/// <summary>
/// The sampling parameters of the bench's requests, built in one place: the same object goes to prefill and decode, and
/// the in-process engine gets its every field through <see cref="ToEngine"/>, so the compared paths sample alike.
/// </summary>
public static class BenchSampling
{
    /// <summary>Greedy and past EOS, so every request produces exactly <paramref name="maxTokens"/> tokens on every path.</summary>
    public static SamplingParams Create(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    /// <summary>The engine's form of <paramref name="sampling"/>, every field carried (stop strings and seed included).</summary>
    public static Engine.Sampling.SamplingParams ToEngine(SamplingParams sampling)
    {
        ArgumentNullException.ThrowIfNull(sampling);
        return new()
        {
            Temperature = sampling.Temperature,
            TopP = sampling.TopP,
            TopK = sampling.TopK,
            PresencePenalty = sampling.PresencePenalty,
            FrequencyPenalty = sampling.FrequencyPenalty,
            // The wire carries a signed seed; the engine's counter-based draws take its bits unchanged.
            Seed = sampling.Seed is { } seed ? unchecked((ulong)seed) : null,
            MaxTokens = sampling.MaxTokens,
            StopTokenIds = sampling.StopTokenIds,
            StopStrings = sampling.StopStrings,
            IgnoreEos = sampling.IgnoreEos,
            TopLogprobs = sampling.Logprobs ?? 0,
        };
    }
}
