using System.Reflection;
using MoeDapr.Router.Api.OpenAi;

namespace MoeDapr.Router.Api;

/// <summary>vLLM's <c>GET /version</c> and <c>GET|POST /ping</c> (the SageMaker-style liveness probe some platforms send).</summary>
public static class ServerInfoApi
{
    /// <summary>The router's informational version without the source-revision suffix.</summary>
    public static string Version { get; } = ReadVersion();

    public static IEndpointRouteBuilder MapServerInfoApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/version", () => TypedResults.Json(new VersionResponse(Version), OpenAiJson.Options));
        app.MapMethods("/ping", [HttpMethods.Get, HttpMethods.Post], () => TypedResults.Ok());
        return app;
    }

    private static string ReadVersion()
    {
        var assembly = typeof(ServerInfoApi).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? version : version[..plus];
    }
}
