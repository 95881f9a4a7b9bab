using MoeDapr.Router.Api.OpenAi;

namespace MoeDapr.Router.Api;

/// <summary>What one output token adds to the answer.</summary>
public sealed record OutputStep(string Text, int TokenId, CompletionLogprobs? CompletionLogprobs, ChatTokenLogprob? ChatLogprob);
