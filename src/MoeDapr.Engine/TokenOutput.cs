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
