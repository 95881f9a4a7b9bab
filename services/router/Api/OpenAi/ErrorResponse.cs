namespace MoeDapr.Router.Api.OpenAi;

/// <summary><c>{"error": {...}}</c>.</summary>
public sealed record ErrorResponse(ErrorBody Error);
