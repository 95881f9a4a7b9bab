namespace MoeDapr.Router.Api.OpenAi;

/// <summary>Prompt tokens served from a prefix cache.</summary>
public sealed record PromptTokensDetails(int CachedTokens);
