namespace MoeDapr.Router.Api.OpenAi;

/// <summary>vLLM's <c>/detokenize</c> answer: the text of the tokens.</summary>
public sealed record DetokenizeResponse(string Prompt);
