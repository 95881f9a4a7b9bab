using MoeDapr.Contracts;

namespace MoeDapr.Cli.Bench;

/// <summary>
/// The sampling parameters of the bench's requests, built in one place: the same object goes to prefill, decode and the
/// in-process engine (one vocabulary, no mapping), so the compared paths sample alike.
/// </summary>
public static class BenchSampling
{
    /// <summary>Greedy and past EOS, so every request produces exactly <paramref name="maxTokens"/> tokens on every path.</summary>
    public static SamplingParams Create(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };
}
