using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.PubSub;

namespace MoeDapr.Sidecar.Api;

/// <summary>The /v1.0/publish API (single and bulk): bodies and query metadata to the runtime's publish calls.</summary>
public static class PublishHttpApi
{
    public static void MapPublishHttpApi(this IEndpointRouteBuilder endpoints, SidecarRuntime runtime)
    {
        endpoints.MapPost("/v1.0/publish/{pubsub}/{**topic}", (HttpContext context, string pubsub, string topic) => PublishAsync(context, runtime, pubsub, topic));
        endpoints.MapPost("/v1.0-alpha1/publish/bulk/{pubsub}/{**topic}", (HttpContext context, string pubsub, string topic) => BulkPublishAsync(context, runtime, pubsub, topic));
    }

    private static async Task PublishAsync(HttpContext context, SidecarRuntime runtime, string pubsub, string topic)
    {
        var body = await ReadBodyAsync(context, runtime, pubsub);
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

    private static async Task BulkPublishAsync(HttpContext context, SidecarRuntime runtime, string pubsub, string topic)
    {
        var body = await ReadBodyAsync(context, runtime, pubsub);
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

    /// <summary>The body of a publish to <paramref name="pubsub"/>, or null when daprd's 404 or 413 has been answered.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpContext context, SidecarRuntime runtime, string pubsub)
    {
        if (!runtime.PubSubs.ContainsKey(pubsub))
        {
            await DaprErrors.WriteAsync(context, 404, "ERR_PUBSUB_NOT_FOUND", $"pubsub {pubsub} is not found");
            return null;
        }

        return await SidecarHttpApi.ReadBodyAsync(context, runtime);
    }

    private static Dictionary<string, string> QueryMetadata(HttpContext context) =>
        context.Request.Query
            .Where(q => q.Key.StartsWith("metadata.", StringComparison.Ordinal))
            .ToDictionary(q => q.Key["metadata.".Length..], q => q.Value.ToString(), StringComparer.Ordinal);
}
