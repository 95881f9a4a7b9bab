using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.State;

namespace MoeDapr.Sidecar.Api;

/// <summary>The /v1.0/state API: JSON bodies to <see cref="StateService"/> calls, its failures to daprd's HTTP errors.</summary>
public static class StateHttpApi
{
    public static void MapStateHttpApi(this IEndpointRouteBuilder endpoints, SidecarRuntime runtime)
    {
        var state = endpoints.MapGroup("/v1.0/state/{store}");
        state.MapPost("", (HttpContext context, string store) => HandleAsync(context, runtime, store, readBody: true, SaveAsync));
        state.MapPost("/bulk", (HttpContext context, string store) => HandleAsync(context, runtime, store, readBody: true, GetBulkAsync));
        state.MapMethods("/transaction", ["POST", "PUT"], (HttpContext context, string store) => HandleAsync(context, runtime, store, readBody: true, TransactAsync));
        state.MapGet("/{key}", (HttpContext context, string store, string key) =>
            HandleAsync(context, runtime, store, readBody: false, (c, service, stateStore, _) => GetAsync(c, service, stateStore, key)));
        state.MapDelete("/{key}", (HttpContext context, string store, string key) =>
            HandleAsync(context, runtime, store, readBody: false, (c, service, stateStore, _) =>
                service.DeleteAsync(stateStore, [new StateWrite(key, Etag: c.Request.Headers.IfMatch.ToString())], c.RequestAborted)));
    }

    /// <summary>
    /// Resolves the store, reads the body within --max-body-size when the route has one, runs <paramref name="handle"/>
    /// (204 unless it answers itself) and writes its failure as daprd does.
    /// </summary>
    private static async Task HandleAsync(
        HttpContext context, SidecarRuntime runtime, string store, bool readBody, Func<HttpContext, StateService, IStateStore, byte[], Task> handle)
    {
        try
        {
            var stateStore = runtime.State.Store(store);
            var body = readBody ? await SidecarHttpApi.ReadBodyAsync(context, runtime) : [];
            if (body is null)
            {
                return;
            }

            context.Response.StatusCode = 204;
            await handle(context, runtime.State, stateStore, body);
        }
        catch (StateRequestException ex)
        {
            await WriteErrorAsync(context, store, ex);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            await DaprErrors.WriteAsync(context, 400, "ERR_MALFORMED_REQUEST", $"failed deserializing HTTP body: {ex.Message}");
        }
    }

    private static Task WriteErrorAsync(HttpContext context, string store, StateRequestException ex) => ex.Kind switch
    {
        // daprd's HTTP API answers a missing store the same way whether or not any store is configured.
        StateRequestKind.StoreNotConfigured or StateRequestKind.StoreNotFound =>
            DaprErrors.WriteAsync(context, 400, "ERR_STATE_STORE_NOT_FOUND", $"state store {store} is not found"),
        StateRequestKind.EtagMismatch => DaprErrors.WriteAsync(context, 409, ex.ErrorCode, ex.Message),
        _ => DaprErrors.WriteAsync(context, 400, "ERR_MALFORMED_REQUEST", $"failed deserializing HTTP body: {ex.Message}"),
    };

    private static Task SaveAsync(HttpContext context, StateService service, IStateStore store, byte[] body)
    {
        var items = JsonNode.Parse(body) as JsonArray ?? throw new JsonException("expected an array of state items");
        var writes = items.Select(i => ToWrite(i as JsonObject ?? throw new JsonException("a state item must be an object"), withValue: true)).ToList();
        return service.SaveAsync(store, writes, context.RequestAborted);
    }

    private static async Task GetAsync(HttpContext context, StateService service, IStateStore store, string key)
    {
        var entry = await service.GetAsync(store, key, context.RequestAborted);
        if (entry is null)
        {
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.Headers.ETag = entry.Etag;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(entry.Data, context.RequestAborted);
    }

    private static async Task GetBulkAsync(HttpContext context, StateService service, IStateStore store, byte[] body)
    {
        var keys = (JsonNode.Parse(body)?["keys"] as JsonArray)?.Select(k => k?.GetValue<string>() ?? "").ToList() ?? [];
        var result = new JsonArray();
        foreach (var (key, entry) in await service.GetBulkAsync(store, keys, context.RequestAborted))
        {
            var item = new JsonObject { ["key"] = key };
            if (entry is not null)
            {
                item["data"] = ParseOrString(entry.Data);
                item["etag"] = entry.Etag;
            }

            result.Add(item);
        }

        context.Response.StatusCode = 200;
        await Results.Text(result.ToJsonString(), "application/json").ExecuteAsync(context);
    }

    private static Task TransactAsync(HttpContext context, StateService service, IStateStore store, byte[] body)
    {
        var entries = JsonNode.Parse(body)?["operations"] as JsonArray ?? throw new JsonException("'operations' must be an array");
        var operations = entries.OfType<JsonObject>().Select(op => (
            StateService.OperationKind(op["operation"]?.GetValue<string>()),
            ToWrite(op["request"] as JsonObject ?? throw new JsonException("each operation needs a 'request'"), withValue: true))).ToList();
        return service.TransactAsync(store, operations, context.RequestAborted);
    }

    /// <summary>One JSON state item ({key, value, etag, options.concurrency, metadata.ttlInSeconds}) as a write.</summary>
    internal static StateWrite ToWrite(JsonObject item, bool withValue)
    {
        var concurrency = item["options"]?["concurrency"]?.GetValue<string>() switch
        {
            "first-write" => StateConcurrency.FirstWrite,
            "last-write" => StateConcurrency.LastWrite,
            _ => StateConcurrency.Unspecified,
        };
        byte[]? value = null;
        if (withValue)
        {
            // The value is JSON in the body; it is stored as its JSON text.
            value = Encoding.UTF8.GetBytes(item["value"]?.ToJsonString() ?? "null");
        }

        return new StateWrite(item["key"]?.GetValue<string>(), value, item["etag"]?.GetValue<string>(), concurrency,
            item["metadata"]?["ttlInSeconds"]?.ToString());
    }

    internal static JsonNode? ParseOrString(byte[] data)
    {
        try
        {
            return JsonNode.Parse(data);
        }
        catch (JsonException)
        {
            return Encoding.UTF8.GetString(data);
        }
    }
}
