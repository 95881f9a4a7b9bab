namespace MoeDapr.Router.Api.OpenAi;

/// <summary><c>GET /v1/models</c>.</summary>
public sealed record ModelList(string Object, IReadOnlyList<ModelCard> Data);
