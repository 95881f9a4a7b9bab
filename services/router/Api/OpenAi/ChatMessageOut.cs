namespace MoeDapr.Router.Api.OpenAi;

/// <summary>The assistant's message.</summary>
public sealed record ChatMessageOut(string Role, string Content);
