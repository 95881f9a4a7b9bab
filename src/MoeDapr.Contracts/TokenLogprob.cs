namespace MoeDapr.Contracts;

/// <summary>One token's log-probability.</summary>
public sealed record TokenLogprob(int TokenId, float Logprob);
