using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoeDapr.Sidecar.Actors;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.PubSub;
using MoeDapr.Sidecar.State;

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

        endpoints.MapPost("/v1.0/publish/{pubsub}/{**topic}", PublishAsync);
        endpoints.MapPost("/v1.0-alpha1/publish/bulk/{pubsub}/{**topic}", BulkPublishAsync);

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

        async Task PublishAsync(HttpContext context, string pubsub, string topic)
        {
            if (!runtime.PubSubs.ContainsKey(pubsub))
            {
                await DaprErrors.WriteAsync(context, 404, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsub} is not found");
                return;
            }

            var body = await ReadBodyAsync(context, runtime);
            if (body is null)
            {
                return;
            }

            var metadata = QueryMetadata(context);
            try
            {
                await runtime.PublishAsync(pubsub, topic, body, context.Request.ContentType, metadata, context.Request.Headers["traceparent"].ToString(), context.RequestAborted);
                context.Response.StatusCode = 204;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await DaprErrors.WriteAsync(context, 500, "ERR_PUBSUB_PUBLISH_MESSAGE", $"error when publish to topic {topic} in pubsub {pubsub}: {ex.Message}");
            }
        }

        async Task BulkPublishAsync(HttpContext context, string pubsub, string topic)
        {
            if (!runtime.PubSubs.ContainsKey(pubsub))
            {
                await DaprErrors.WriteAsync(context, 404, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsub} is not found");
                return;
            }

            var body = await ReadBodyAsync(context, runtime);
            if (body is null)
            {
                return;
            }

            JsonArray entries;
            try
            {
                entries = JsonNode.Parse(body) as JsonArray ?? throw new JsonException("expected an array");
            }
            catch (JsonException ex)
            {
                await DaprErrors.WriteAsync(context, 400, "ERR_PUBSUB_EVENTS_SER", $"error when unmarshaling the request for topic {topic} pubsub {pubsub}: {ex.Message}");
                return;
            }

            var metadata = QueryMetadata(context);
            var failures = await runtime.PublishBulkAsync(pubsub, topic, entries.OfType<JsonObject>().Select(entry =>
            {
                var contentType = entry["contentType"]?.GetValue<string>() ?? "application/json";
                var eventNode = entry["event"];
                var data = eventNode is JsonValue value && value.TryGetValue<string>(out var text) && !CloudEvents.IsJsonContentType(contentType)
                    ? Encoding.UTF8.GetBytes(text)
                    : Encoding.UTF8.GetBytes(eventNode?.ToJsonString() ?? "null");
                return new BulkPublishEntry(entry["entryId"]?.GetValue<string>() ?? "", data, contentType, metadata);
            }), "", context.RequestAborted);
            var failed = new JsonArray(failures.Select(f => (JsonNode)new JsonObject { ["entryId"] = f.EntryId, ["error"] = f.Error }).ToArray());
            if (failed.Count == 0)
            {
                context.Response.StatusCode = 204;
                return;
            }

            context.Response.StatusCode = 500;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(new JsonObject { ["failedEntries"] = failed, ["errorCode"] = "ERR_PUBSUB_PUBLISH_MESSAGE" }.ToJsonString(), context.RequestAborted);
        }
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

    private static Dictionary<string, string> QueryMetadata(HttpContext context) =>
        context.Request.Query
            .Where(q => q.Key.StartsWith("metadata.", StringComparison.Ordinal))
            .ToDictionary(q => q.Key["metadata.".Length..], q => q.Value.ToString(), StringComparer.Ordinal);

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
