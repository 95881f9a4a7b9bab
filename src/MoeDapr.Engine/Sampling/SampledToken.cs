using MoeDapr.Contracts;

namespace MoeDapr.Engine.Sampling;

/// <summary>One sampled token with its log-probability and the most likely alternatives.</summary>
public sealed record SampledToken(int TokenId, float Logprob, IReadOnlyList<TokenLogprob> TopLogprobs);
