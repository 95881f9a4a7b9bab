namespace MoeDapr.Contracts;

/// <summary>A sampled token with its log-probability and alternatives when <see cref="SamplingParams.Logprobs"/> asked for them.</summary>
public sealed record TokenSample
{
    public required int TokenId { get; init; }

    /// <summary>Natural-log probability of <see cref="TokenId"/> under the processed distribution; null when not requested.</summary>
    public float? Logprob { get; init; }

    /// <summary>The most likely tokens, best first (k = <see cref="SamplingParams.Logprobs"/>); null when not requested.</summary>
    public IReadOnlyList<TokenLogprob>? TopLogprobs { get; init; }
}
