using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.PubSub;

/// <summary>
/// Subscribes the app to its topics (from GET /dapr/subscribe and declarative Subscription resources) and delivers
/// CloudEvents with daprd's SUCCESS / RETRY / DROP / 404 semantics, resiliency retries and dead-letter topics.
/// </summary>
public sealed partial class SubscriptionManager(SidecarRuntime runtime) : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _consumers = [];

    public List<ActiveSubscription> Active { get; } = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var specs = new List<SubscriptionSpec>();
        if (runtime.AppBaseUri is not null)
        {
            specs.AddRange(await DiscoverAsync(cancellationToken));
        }

        specs.AddRange(runtime.Resources.Subscriptions.Where(s => s.AppliesTo(runtime.Options.AppId)));
        if (specs.Count > 0 && runtime.AppBaseUri is null)
        {
            throw new SidecarConfigurationException("subscriptions need an app: set --app-port.");
        }

        foreach (var spec in specs)
        {
            if (!runtime.PubSubs.TryGetValue(spec.PubsubName, out var pubsub))
            {
                LogUnknownPubSub(runtime.Logger, spec.PubsubName, spec.Topic);
                continue;
            }

            var rules = spec.Rules
                .Select(r => (r.Match.Length == 0 ? null : MatchExpression.TryParse(r.Match, out var m, out _) ? m : throw new SidecarResourceException($"subscription to {spec.Topic}: match '{r.Match}' is not supported"), NormalizePath(r.Path)))
                .ToList();
            if (spec.DefaultRoute is { } fallback)
            {
                rules.Add((null, NormalizePath(fallback)));
            }

            var active = new ActiveSubscription(spec, rules, runtime.Resources.InboundRetryFor(runtime.Options.AppId, spec.PubsubName));
            Active.Add(active);
            _consumers.Add(await pubsub.SubscribeAsync(spec.Topic, runtime.Options.AppId,
                (message, ct) => HandleAsync(active, pubsub, message, ct), cancellationToken));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var consumer in _consumers)
        {
            await consumer.DisposeAsync();
        }

        _consumers.Clear();
    }

    /// <summary>Parses the /dapr/subscribe answer (keys case-insensitive, paths with or without a leading slash).</summary>
    public static List<SubscriptionSpec> ParseProgrammatic(JsonElement root)
    {
        var list = new List<SubscriptionSpec>();
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new SidecarResourceException("GET /dapr/subscribe must answer a JSON array.");
        }

        foreach (var item in root.EnumerateArray())
        {
            var pubsub = Get(item, "pubsubname")?.GetString();
            var topic = Get(item, "topic")?.GetString();
            if (string.IsNullOrEmpty(pubsub) || string.IsNullOrEmpty(topic))
            {
                throw new SidecarResourceException("GET /dapr/subscribe: every entry needs pubsubname and topic.");
            }

            var rules = new List<RouteRule>();
            var defaultRoute = Get(item, "route")?.GetString();
            if (Get(item, "routes") is { ValueKind: JsonValueKind.Object } routes)
            {
                defaultRoute = Get(routes, "default")?.GetString() is { Length: > 0 } d ? d : defaultRoute;
                if (Get(routes, "rules") is { ValueKind: JsonValueKind.Array } ruleArray)
                {
                    foreach (var rule in ruleArray.EnumerateArray())
                    {
                        rules.Add(new RouteRule(Get(rule, "match")?.GetString() ?? "", Get(rule, "path")?.GetString() ?? ""));
                    }
                }
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (Get(item, "metadata") is { ValueKind: JsonValueKind.Object } meta)
            {
                foreach (var property in meta.EnumerateObject())
                {
                    metadata[property.Name] = property.Value.ToString();
                }
            }

            list.Add(new SubscriptionSpec(pubsub, topic, rules, defaultRoute, Get(item, "deadLetterTopic")?.GetString() is { Length: > 0 } dlt ? dlt : null,
                metadata, [], "programmatic"));
        }

        return list;
    }

    private async Task<List<SubscriptionSpec>> DiscoverAsync(CancellationToken cancellationToken)
    {
        using var request = runtime.AppRequest(HttpMethod.Get, "/dapr/subscribe");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await runtime.AppClient.SendAsync(request, timeout.Token);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        if (body.Length == 0)
        {
            return [];
        }

        using var document = JsonDocument.Parse(body);
        return ParseProgrammatic(document.RootElement);
    }

    private async Task<bool> HandleAsync(ActiveSubscription subscription, IPubSub pubsub, BrokerMessage message, CancellationToken cancellationToken)
    {
        var spec = subscription.Spec;
        var rawPayload = spec.Metadata.TryGetValue("rawPayload", out var raw) && bool.TryParse(raw, out var isRaw) && isRaw;
        byte[] body;
        string contentType;
        JsonElement envelope = default;
        if (rawPayload)
        {
            body = message.Data.ToArray();
            contentType = "application/octet-stream";
        }
        else
        {
            body = CloudEvents.IsCloudEvent(message.Data.Span)
                ? message.Data.ToArray()
                : CloudEvents.WrapRaw(message.Data.Span, spec.PubsubName, spec.Topic, runtime.Environment.Time);
            contentType = CloudEvents.ContentType;
        }

        string? path = null;
        if (!rawPayload)
        {
            using var document = JsonDocument.Parse(body);
            envelope = document.RootElement.Clone();
        }

        foreach (var (match, candidate) in subscription.Rules)
        {
            if (match is null || (!rawPayload && match.Matches(envelope)))
            {
                path = candidate;
                break;
            }
        }

        if (path is null)
        {
            LogNoRoute(runtime.Logger, spec.Topic);
            return true;
        }

        for (var attempt = 1; ; attempt++)
        {
            // Paused while the app health check fails (the entry stays with the broker meanwhile).
            await runtime.AppHealthy.WaitAsync(cancellationToken);
            var outcome = await DeliverOnceAsync(path, body, contentType, envelope, cancellationToken);
            switch (outcome)
            {
                case DeliveryOutcome.Success:
                    return true;
                case DeliveryOutcome.Drop:
                    LogDropped(runtime.Logger, message.BrokerId, spec.Topic);
                    return await ToDeadLetterAsync(pubsub, spec, body, cancellationToken) || true;
            }

            if (subscription.Retry is { } policy && policy.Allows(attempt))
            {
                await Task.Delay(policy.DelayFor(attempt), runtime.Environment.Time, cancellationToken);
                continue;
            }

            if (spec.DeadLetterTopic is not null)
            {
                return await ToDeadLetterAsync(pubsub, spec, body, cancellationToken);
            }

            // Not acknowledged: pubsub.redis redelivers it after processingTimeout; in memory it is gone.
            LogRetriesExhausted(runtime.Logger, message.BrokerId, spec.Topic, attempt);
            return false;
        }
    }

    private async Task<bool> ToDeadLetterAsync(IPubSub pubsub, SubscriptionSpec spec, byte[] envelope, CancellationToken cancellationToken)
    {
        if (spec.DeadLetterTopic is null)
        {
            return true;
        }

        try
        {
            await pubsub.PublishAsync(spec.DeadLetterTopic, envelope, cancellationToken);
            LogDeadLettered(runtime.Logger, spec.Topic, spec.DeadLetterTopic);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogDeadLetterFailed(runtime.Logger, ex, spec.DeadLetterTopic);
            return false;
        }
    }

    private async Task<DeliveryOutcome> DeliverOnceAsync(string path, byte[] body, string contentType, JsonElement envelope, CancellationToken cancellationToken)
    {
        using var request = runtime.AppRequest(HttpMethod.Post, path);
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (envelope.ValueKind == JsonValueKind.Object && envelope.TryGetProperty("traceparent", out var traceParent) && traceParent.GetString() is { Length: > 0 } tp)
        {
            request.Headers.TryAddWithoutValidation("traceparent", tp);
        }

        try
        {
            using var response = await runtime.AppClient.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return DeliveryOutcome.Drop;
            }

            if (!response.IsSuccessStatusCode)
            {
                return DeliveryOutcome.Retry;
            }

            var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return ParseAnswer(answer);
        }
        catch (HttpRequestException)
        {
            return DeliveryOutcome.Retry;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return DeliveryOutcome.Retry;
        }
    }

    /// <summary>2xx with an empty or non-JSON body is success; {"status": SUCCESS|RETRY|DROP} decides otherwise.</summary>
    public static DeliveryOutcome ParseAnswer(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return DeliveryOutcome.Success;
        }

        try
        {
            using var document = JsonDocument.Parse(body.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object || Get(document.RootElement, "status") is not { } status)
            {
                return DeliveryOutcome.Success;
            }

            return status.GetString()?.ToUpperInvariant() switch
            {
                "SUCCESS" or "" or null => DeliveryOutcome.Success,
                "DROP" => DeliveryOutcome.Drop,
                _ => DeliveryOutcome.Retry,
            };
        }
        catch (JsonException)
        {
            return DeliveryOutcome.Success;
        }
    }

    private static string NormalizePath(string path) => path.StartsWith('/') ? path : "/" + path;

    private static JsonElement? Get(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }

    [LoggerMessage(EventId = LogEvents.UnknownPubSub, Level = LogLevel.Warning, Message = "subscription to topic {Topic}: pub/sub component '{PubSub}' does not exist; skipped")]
    private static partial void LogUnknownPubSub(ILogger logger, string pubSub, string topic);

    [LoggerMessage(EventId = LogEvents.NoRoute, Level = LogLevel.Warning, Message = "topic {Topic}: no route matched the event; dropped")]
    private static partial void LogNoRoute(ILogger logger, string topic);

    [LoggerMessage(EventId = LogEvents.MessageDropped, Level = LogLevel.Warning, Message = "message {Id} on topic {Topic} dropped by the app")]
    private static partial void LogDropped(ILogger logger, string id, string topic);

    [LoggerMessage(EventId = LogEvents.DeadLettered, Level = LogLevel.Information, Message = "message from topic {Topic} sent to dead-letter topic {DeadLetterTopic}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, string deadLetterTopic);

    [LoggerMessage(EventId = LogEvents.DeadLetterFailed, Level = LogLevel.Error, Message = "publishing to dead-letter topic {DeadLetterTopic} failed")]
    private static partial void LogDeadLetterFailed(ILogger logger, Exception exception, string deadLetterTopic);

    [LoggerMessage(EventId = LogEvents.RetriesExhausted, Level = LogLevel.Warning, Message = "message {Id} on topic {Topic} not delivered after {Attempts} attempt(s)")]
    private static partial void LogRetriesExhausted(ILogger logger, string id, string topic, int attempts);
}
