using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Api;

/// <summary>daprd's HTTP API on the sidecar's HTTP port.</summary>
public static class SidecarHttpApi
{
    /// <summary>Checks dapr-api-token (healthz exempt) and routes the dapr-app-id header form of invocation.</summary>
    public static IApplicationBuilder UseDaprHttpFront(this IApplicationBuilder app, SidecarRuntime runtime) =>
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path.Value ?? "/";
            if (runtime.Options.ApiToken is { Length: > 0 } token
                && !path.StartsWith("/v1.0/healthz", StringComparison.Ordinal)
                && !string.Equals(context.Request.Headers["dapr-api-token"].ToString(), token, StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("invalid api token", context.RequestAborted);
                return;
            }

            if (context.Request.Headers.TryGetValue("dapr-app-id", out var appId) && appId.Count > 0
                && !path.StartsWith("/v1.0/", StringComparison.Ordinal) && !path.StartsWith("/v1.0-alpha1/", StringComparison.Ordinal))
            {
                await Proxy.InvokeAsync(context, runtime, appId.ToString(), path.TrimStart('/'));
                return;
            }

            await next(context);
        });

    public static void MapDaprHttpApi(this IEndpointRouteBuilder endpoints, SidecarRuntime runtime)
    {
        endpoints.Map("/v1.0/invoke/{appId}/method/{**method}", (HttpContext context, string appId, string? method) =>
            Proxy.InvokeAsync(context, runtime, appId, RawMethodPath(context, method ?? "")));

        endpoints.MapGet("/v1.0/healthz", () => runtime.IsReady
            ? Results.NoContent()
            : DaprErrors.Result(500, "ERR_HEALTH_NOT_READY", "dapr is not ready"));
        endpoints.MapGet("/v1.0/healthz/outbound", () => Results.NoContent());
        endpoints.MapGet("/v1.0/metadata", () => Results.Text(MetadataJson(runtime).ToJsonString(), "application/json"));
        endpoints.MapPut("/v1.0/metadata/{key}", async (HttpContext context, string key) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            runtime.ExtendedMetadata[key] = await reader.ReadToEndAsync(context.RequestAborted);
            return Results.NoContent();
        });
        endpoints.MapPost("/v1.0/shutdown", () =>
        {
            runtime.RequestShutdown();
            return Results.NoContent();
        });

        endpoints.MapPublishHttpApi(runtime);

        endpoints.MapStateHttpApi(runtime);

        var actors = endpoints.MapGroup("/v1.0/actors/{actorType}/{actorId}");
        actors.MapMethods("/method/{**method}", ["PUT", "POST", "GET", "DELETE"], (HttpContext context, string actorType, string actorId, string method) =>
            ActorHttpApi.InvokeAsync(context, runtime, actorType, actorId, method));
        actors.MapGet("/state/{key}", (HttpContext context, string actorType, string actorId, string key) =>
            ActorHttpApi.GetStateAsync(context, runtime, actorType, actorId, key));
        actors.MapMethods("/state", ["PUT", "POST"], (HttpContext context, string actorType, string actorId) =>
            ActorHttpApi.SaveStateAsync(context, runtime, actorType, actorId));
        actors.MapMethods("/reminders/{name}", ["PUT", "POST", "GET", "DELETE"], (HttpContext context, string actorType, string actorId, string name) =>
            ActorHttpApi.ReminderAsync(context, runtime, actorType, actorId, name));
        actors.MapMethods("/timers/{name}", ["PUT", "POST", "DELETE"], (HttpContext context, string actorType, string actorId, string name) =>
            ActorHttpApi.TimerAsync(context, runtime, actorType, actorId, name));
    }

    /// <summary>The method path as the caller wrote it (still percent-encoded), so the app sees the same URL.</summary>
    private static string RawMethodPath(HttpContext context, string decoded)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "";
        var marker = raw.IndexOf("/method/", StringComparison.Ordinal);
        if (marker < 0)
        {
            return decoded;
        }

        var rest = raw[(marker + "/method/".Length)..];
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        return queryStart < 0 ? rest : rest[..queryStart];
    }

    /// <summary>Reads a whole body within --max-body-size; answers 413 and returns null when it is larger.</summary>
    internal static async Task<byte[]?> ReadBodyAsync(HttpContext context, SidecarRuntime runtime)
    {
        if (context.Request.ContentLength > runtime.Options.MaxBodySize)
        {
            await Proxy.RejectTooLargeAsync(context);
            return null;
        }

        using var buffer = new MemoryStream();
        try
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413)
        {
            context.Response.StatusCode = 413;
            await context.Response.WriteAsync("Request Entity Too Large", context.RequestAborted);
            return null;
        }

        return buffer.ToArray();
    }

    /// <summary>The /v1.0/metadata answer.</summary>
    public static JsonObject MetadataJson(SidecarRuntime runtime)
    {
        var extended = new JsonObject();
        foreach (var (key, value) in runtime.ExtendedMetadata)
        {
            extended[key] = value;
        }

        return new JsonObject
        {
            ["id"] = runtime.Options.AppId,
            ["runtimeVersion"] = SidecarRuntime.RuntimeVersion,
            ["enabledFeatures"] = new JsonArray(),
            ["actors"] = new JsonArray(runtime.Actors.HostedTypes.Select(t => (JsonNode)new JsonObject
            {
                ["type"] = t,
                ["count"] = runtime.Actors.ActiveCounts.GetValueOrDefault(t),
            }).ToArray()),
            ["components"] = new JsonArray(runtime.StateStores.Values.Select(s => (s.Name, s.Type))
                .Concat(runtime.PubSubs.Values.Select(p => (p.Name, p.Type)))
                .Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["type"] = c.Type, ["version"] = "v1", ["capabilities"] = new JsonArray() })
                .ToArray()),
            ["subscriptions"] = new JsonArray(runtime.Subscriptions.Active.Select(s => (JsonNode)new JsonObject
            {
                ["pubsubname"] = s.Spec.PubsubName,
                ["topic"] = s.Spec.Topic,
                ["deadLetterTopic"] = s.Spec.DeadLetterTopic ?? "",
                ["type"] = s.Spec.Kind == "declarative" ? "DECLARATIVE" : "PROGRAMMATIC",
                ["rules"] = new JsonArray(s.Rules.Select(r => (JsonNode)new JsonObject { ["match"] = r.Match?.ToString() ?? "", ["path"] = r.Path }).ToArray()),
            }).ToArray()),
            ["extended"] = extended,
            ["appConnectionProperties"] = new JsonObject
            {
                ["port"] = runtime.Options.AppPort,
                ["protocol"] = runtime.Options.AppProtocol,
                ["channelAddress"] = runtime.Options.AppChannelAddress,
                ["health"] = runtime.Options.EnableAppHealthCheck
                    ? new JsonObject { ["healthCheckPath"] = runtime.Options.AppHealthCheckPath, ["healthy"] = runtime.IsAppHealthy }
                    : null,
            },
        };
    }
}
