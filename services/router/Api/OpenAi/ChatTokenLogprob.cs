namespace MoeDapr.Router.Api.OpenAi;

/// <summary>One token's logprob with its UTF-8 bytes and the alternatives.</summary>
public sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);
