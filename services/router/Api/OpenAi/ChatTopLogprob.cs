namespace MoeDapr.Router.Api.OpenAi;

/// <summary>An alternative token.</summary>
public sealed record ChatTopLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes);
