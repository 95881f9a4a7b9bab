namespace MoeDapr.Router.Api.OpenAi;

/// <summary>vLLM's <c>/tokenize</c> answer; <c>token_strs</c> only when <c>return_token_strs</c> was set.</summary>
public sealed record TokenizeResponse(int Count, int MaxModelLen, IReadOnlyList<int> Tokens, IReadOnlyList<string>? TokenStrs);
