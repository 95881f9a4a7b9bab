namespace MoeDapr.Router.Api.OpenAi;

/// <summary><c>chat.completion</c>.</summary>
public sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage? Usage);
