namespace MoeDapr.Router.Api.OpenAi;

/// <summary>Chat logprobs: one entry per output token.</summary>
public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);
