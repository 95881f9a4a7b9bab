using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using MoeDapr.Sidecar.Actors;
using MoeDapr.Sidecar.Discovery;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.State;

namespace MoeDapr.Sidecar.Api;

/// <summary>The /v1.0/actors API: calls, reminders and timers go to the host the actor id is placed on.</summary>
public static class ActorHttpApi
{
    /// <summary>Marks a call another sidecar already placed here.</summary>
    public const string PlacedHeader = "moedapr-actor-placed";

    public static Task InvokeAsync(HttpContext context, SidecarRuntime runtime, string actorType, string actorId, string method) =>
        OnOwnerAsync(context, runtime, actorType, actorId, async (owner, body) =>
        {
            var headers = context.Request.Headers
                .Where(h => !Proxy.IsHopByHop(h.Key) && !h.Key.Equals("dapr-api-token", StringComparison.OrdinalIgnoreCase)
                    && !h.Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && !h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                    && !h.Key.Equals(PlacedHeader, StringComparison.OrdinalIgnoreCase) && !h.Key.Equals(ActorRuntime.ReentrancyHeader, StringComparison.OrdinalIgnoreCase))
                .Select(h => new KeyValuePair<string, string>(h.Key, h.Value.ToString()))
                .ToList();
            var reentrancy = context.Request.Headers[ActorRuntime.ReentrancyHeader].ToString();
            var response = await owner.Actors.InvokeLocalAsync(actorType, actorId, method, body, context.Request.ContentType, headers,
                reentrancy.Length > 0 ? reentrancy : null, context.RequestAborted);
            context.Response.StatusCode = response.StatusCode;
            foreach (var (name, value) in response.Headers)
            {
                context.Response.Headers[name] = value;
            }

            if (response.ContentType is not null)
            {
                context.Response.ContentType = response.ContentType;
            }

            await context.Response.Body.WriteAsync(response.Body, context.RequestAborted);
        });

    public static Task ReminderAsync(HttpContext context, SidecarRuntime runtime, string actorType, string actorId, string name) =>
        OnOwnerAsync(context, runtime, actorType, actorId, async (owner, body) =>
        {
            switch (context.Request.Method)
            {
                case "GET":
                    var reminder = await owner.Actors.GetReminderAsync(actorType, actorId, name, context.RequestAborted);
                    if (reminder is null)
                    {
                        context.Response.StatusCode = 204;
                        return;
                    }

                    await Results.Text(new JsonObject
                    {
                        ["dueTime"] = reminder["dueTime"]?.DeepClone(),
                        ["period"] = reminder["period"]?.DeepClone(),
                        ["data"] = reminder["data"]?.DeepClone(),
                    }.ToJsonString(), "application/json").ExecuteAsync(context);
                    return;
                case "DELETE":
                    await owner.Actors.DeleteReminderAsync(actorType, actorId, name, context.RequestAborted);
                    context.Response.StatusCode = 204;
                    return;
                default:
                    await owner.Actors.CreateReminderAsync(actorType, actorId, name, ParseObject(body), context.RequestAborted);
                    context.Response.StatusCode = 204;
                    return;
            }
        });

    public static Task TimerAsync(HttpContext context, SidecarRuntime runtime, string actorType, string actorId, string name) =>
        OnOwnerAsync(context, runtime, actorType, actorId, (owner, body) =>
        {
            if (context.Request.Method == "DELETE")
            {
                owner.Actors.DeleteTimer(actorType, actorId, name);
            }
            else
            {
                owner.Actors.CreateTimer(actorType, actorId, name, ParseObject(body));
            }

            context.Response.StatusCode = 204;
            return Task.CompletedTask;
        });

    /// <summary>
    /// Reads the body, finds the sidecar the actor id is placed on (answering itself when it is another process) and runs
    /// <paramref name="handle"/> there, writing actor and body errors as daprd does.
    /// </summary>
    private static async Task OnOwnerAsync(
        HttpContext context, SidecarRuntime runtime, string actorType, string actorId, Func<SidecarRuntime, byte[], Task> handle)
    {
        var body = await SidecarHttpApi.ReadBodyAsync(context, runtime);
        if (body is null)
        {
            return;
        }

        var owner = await ResolveOwnerAsync(context, runtime, actorType, actorId, body);
        if (owner is null)
        {
            return;
        }

        try
        {
            await handle(owner, body);
        }
        catch (ActorException ex)
        {
            await DaprErrors.WriteAsync(context, ex.StatusCode, ex.ErrorCode, ex.Message);
        }
        catch (JsonException ex)
        {
            await DaprErrors.WriteAsync(context, 400, "ERR_MALFORMED_REQUEST", $"failed deserializing HTTP body: {ex.Message}");
        }
    }

    public static async Task GetStateAsync(HttpContext context, SidecarRuntime runtime, string actorType, string actorId, string key)
    {
        if (runtime.ActorStateStore is not { } store)
        {
            await NoActorStore(context);
            return;
        }

        var entry = await store.GetAsync(StateKeys.ForActor(runtime.Options.AppId, actorType, actorId, key), context.RequestAborted);
        if (entry is null)
        {
            context.Response.StatusCode = 204;
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(entry.Data, context.RequestAborted);
    }

    public static async Task SaveStateAsync(HttpContext context, SidecarRuntime runtime, string actorType, string actorId)
    {
        if (runtime.ActorStateStore is not { } store)
        {
            await NoActorStore(context);
            return;
        }

        var body = await SidecarHttpApi.ReadBodyAsync(context, runtime);
        if (body is null)
        {
            return;
        }

        var operations = new List<StateOperation>();
        try
        {
            var ops = JsonNode.Parse(body) as JsonArray ?? throw new JsonException("expected an array of operations");
            foreach (var op in ops.OfType<JsonObject>())
            {
                var request = op["request"] as JsonObject ?? throw new JsonException("each operation needs a 'request'");
                var key = request["key"]?.GetValue<string>() ?? throw new JsonException("each request needs a 'key'");
                var fullKey = StateKeys.ForActor(runtime.Options.AppId, actorType, actorId, key);
                TimeSpan? ttl = request["metadata"]?["ttlInSeconds"] is { } ttlNode
                    ? TimeSpan.FromSeconds(double.Parse(ttlNode.ToString(), System.Globalization.CultureInfo.InvariantCulture))
                    : null;
                operations.Add(op["operation"]?.GetValue<string>()?.ToLowerInvariant() switch
                {
                    "upsert" => new StateOperation(StateOperationKind.Upsert, fullKey, Encoding.UTF8.GetBytes(request["value"]?.ToJsonString() ?? "null"), Ttl: ttl),
                    "delete" => new StateOperation(StateOperationKind.Delete, fullKey),
                    var other => throw new JsonException($"operation type {other} not supported"),
                });
            }
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            await DaprErrors.WriteAsync(context, 400, "ERR_MALFORMED_REQUEST", $"failed deserializing HTTP body: {ex.Message}");
            return;
        }

        await store.ExecuteAsync(operations, context.RequestAborted);
        context.Response.StatusCode = 204;
    }

    /// <summary>
    /// Finds the sidecar the actor id is placed on. A sidecar of this process is returned directly; for one in another
    /// process the request is forwarded there (the answer is written here) and null is returned, as it is on errors.
    /// </summary>
    private static async Task<SidecarRuntime?> ResolveOwnerAsync(HttpContext context, SidecarRuntime runtime, string actorType, string actorId, byte[] body)
    {
        if (context.Request.Headers.ContainsKey(PlacedHeader))
        {
            return runtime;
        }

        var owner = runtime.Actors.PlacementOf(actorType, actorId);
        if (owner is null)
        {
            await DaprErrors.WriteAsync(context, 500, "ERR_ACTOR_INVOKE_METHOD",
                $"error invoke actor method: did not find address for actor {actorType}/{actorId}");
            return null;
        }

        if (runtime.Environment.Directory.FindLocal(owner.InstanceId) is SidecarRuntime local)
        {
            return local;
        }

        await ForwardAsync(context, runtime, owner, body);
        return null;
    }

    private static async Task ForwardAsync(HttpContext context, SidecarRuntime runtime, SidecarRecord owner, byte[] body)
    {
        var target = new Uri($"http://{owner.Host}:{owner.HttpPort}{context.Request.Path}{context.Request.QueryString}");
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target)
        {
            Content = new ByteArrayContent(body),
        };
        foreach (var (name, values) in context.Request.Headers)
        {
            if (Proxy.IsHopByHop(name) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) || name.Equals("dapr-api-token", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        request.Headers.TryAddWithoutValidation(PlacedHeader, runtime.InstanceId);
        if (runtime.Options.ApiToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }

        try
        {
            using var response = await runtime.AppClient.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!Proxy.IsHopByHop(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
        catch (HttpRequestException ex)
        {
            await DaprErrors.WriteAsync(context, 500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: {ex.Message}");
        }
    }

    private static JsonObject ParseObject(byte[] body) =>
        body.Length == 0 ? [] : JsonNode.Parse(body) as JsonObject ?? throw new JsonException("expected a JSON object");

    private static Task NoActorStore(HttpContext context) =>
        DaprErrors.WriteAsync(context, 500, "ERR_ACTOR_RUNTIME_NOT_FOUND",
            "actors: state store does not exist or incorrectly configured. Have you set the property 'actorStateStore' in your state store component file?");
}
