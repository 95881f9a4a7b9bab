namespace MoeDapr.Router.Api.OpenAi;

/// <summary>OpenAI's error object; <c>param</c> and <c>code</c> are null when they do not apply.</summary>
public sealed record ErrorBody(string Message, string Type, string? Param, string? Code);
