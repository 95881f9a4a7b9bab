namespace MoeDapr.Router.Api.OpenAi;

/// <summary><c>GET /version</c>, as vLLM answers it.</summary>
public sealed record VersionResponse(string Version);
