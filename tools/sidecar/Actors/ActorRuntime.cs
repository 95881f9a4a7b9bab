using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using MoeDapr.Sidecar.Discovery;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.Resources;
using MoeDapr.Sidecar.State;

namespace MoeDapr.Sidecar.Actors;

/// <summary>The answer of an actor call: status, headers to pass back, and the whole body.</summary>
public sealed record ActorResponse(int StatusCode, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, string? ContentType);

/// <summary>An actor call that cannot be served; maps to daprd's error body.</summary>
public sealed class ActorException(int statusCode, string errorCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public string ErrorCode { get; } = errorCode;
}

/// <summary>
/// Actors for one sidecar: types from the app's /dapr/config, placement of each id on one host of its type
/// (rendezvous hashing over the live hosts), turn-based calls per actor with reentrancy, idle deactivation,
/// timers, and reminders persisted in the actor state store under "actors||{type}".
/// </summary>
public sealed partial class ActorRuntime(SidecarRuntime runtime) : IAsyncDisposable
{
    public const string ReentrancyHeader = "Dapr-Reentrancy-Id";
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(60);
    private readonly ConcurrentDictionary<(string Type, string Id), ActorSlot> _actors = new();
    private readonly ConcurrentDictionary<(string Type, string Id, string Name), ITimer> _timers = new();
    private readonly ConcurrentDictionary<(string Type, string Id, string Name), ITimer> _reminders = new();
    private readonly SemaphoreSlim _reminderWrites = new(1);
    private ITimer? _scanTimer;

    public IReadOnlyList<string> HostedTypes { get; private set; } = [];

    public TimeSpan IdleTimeout { get; private set; } = TimeSpan.FromMinutes(60);

    public bool ReentrancyEnabled { get; private set; }

    public int MaxStackDepth { get; private set; } = 32;

    public IReadOnlyDictionary<string, int> ActiveCounts =>
        _actors.Keys.GroupBy(k => k.Type).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    /// <summary>Reads GET /dapr/config; 404 means the app hosts no actors.</summary>
    public async Task DiscoverAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(runtime.AppBaseUri!, "/dapr/config"));
        AddAppToken(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var response = await runtime.AppClient.SendAsync(request, timeout.Token);
        if (!response.IsSuccessStatusCode)
        {
            return;
        }

        var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        if (body.Length == 0)
        {
            return;
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (root.TryGetProperty("entities", out var entities) && entities.ValueKind == JsonValueKind.Array)
        {
            HostedTypes = entities.EnumerateArray().Select(e => e.GetString() ?? "").Where(e => e.Length > 0).ToList();
        }

        if (root.TryGetProperty("actorIdleTimeout", out var idle) && DurationParser.TryParse(idle.GetString(), out var idleTimeout))
        {
            IdleTimeout = idleTimeout;
        }

        var scan = TimeSpan.FromSeconds(30);
        if (root.TryGetProperty("actorScanInterval", out var scanText) && DurationParser.TryParse(scanText.GetString(), out var parsedScan))
        {
            scan = parsedScan;
        }

        if (root.TryGetProperty("reentrancy", out var reentrancy) && reentrancy.ValueKind == JsonValueKind.Object)
        {
            ReentrancyEnabled = reentrancy.TryGetProperty("enabled", out var enabled) && enabled.ValueKind == JsonValueKind.True;
            if (reentrancy.TryGetProperty("maxStackDepth", out var depth) && depth.TryGetInt32(out var maxDepth) && maxDepth > 0)
            {
                MaxStackDepth = maxDepth;
            }
        }

        if (HostedTypes.Count > 0)
        {
            if (runtime.ActorStateStore is null)
            {
                LogNoActorStore(runtime.Logger, runtime.Options.AppId);
            }

            _scanTimer = runtime.Environment.Time.CreateTimer(_ => _ = DeactivateIdleAsync(), null, scan, scan);

            // Other hosts must see our types before we claim reminders placed here.
            runtime.Environment.Directory.Refresh(runtime);
            await LoadRemindersAsync(cancellationToken);
        }
    }

    /// <summary>The host an actor id lives on, or null when no live sidecar hosts the type.</summary>
    public SidecarRecord? PlacementOf(string actorType, string actorId)
    {
        var hosts = runtime.Environment.Directory.ActorHosts(actorType);
        if (hosts.Count == 0)
        {
            return null;
        }

        // Rendezvous hashing: every sidecar computes the same owner from the same host list.
        return hosts.MaxBy(h => Fnv1a($"{h.InstanceId}|{actorType}|{actorId}"));
    }

    /// <summary>64-bit FNV-1a plus a finalizer: a stable hash across processes (string.GetHashCode is randomised per process).</summary>
    private static ulong Fnv1a(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        // Murmur3's finalizer: FNV alone leaves the high bits to the common prefix, so one host would win every id.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }

    /// <summary>Runs a method call on an actor hosted by this sidecar's app, one turn at a time.</summary>
    public async Task<ActorResponse> InvokeLocalAsync(
        string actorType, string actorId, string method, byte[] body, string? contentType,
        IEnumerable<KeyValuePair<string, string>> headers, string? reentrancyId, CancellationToken cancellationToken)
    {
        if (!HostedTypes.Contains(actorType, StringComparer.Ordinal))
        {
            throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: actor type {actorType} is not hosted by app {runtime.Options.AppId}");
        }

        var slot = _actors.GetOrAdd((actorType, actorId), _ => new ActorSlot());
        var reentrant = ReentrancyEnabled && reentrancyId is not null && slot.ReentrancyId == reentrancyId;
        if (reentrant)
        {
            if (Interlocked.Increment(ref slot.Depth) > MaxStackDepth)
            {
                Interlocked.Decrement(ref slot.Depth);
                throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", "error invoke actor method: maximum stack depth exceeded");
            }
        }
        else
        {
            if (!await slot.Gate.WaitAsync(TurnTimeout, cancellationToken))
            {
                throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: timed out waiting for the turn of actor {actorType}/{actorId}");
            }

            slot.ReentrancyId = ReentrancyEnabled ? reentrancyId ?? Guid.NewGuid().ToString() : null;
            slot.Depth = 1;
        }

        try
        {
            slot.LastUsed = runtime.Environment.Time.GetUtcNow();
            using var request = new HttpRequestMessage(HttpMethod.Put,
                new Uri(runtime.AppBaseUri!, $"/actors/{Uri.EscapeDataString(actorType)}/{Uri.EscapeDataString(actorId)}/method/{method}"))
            {
                Content = new ByteArrayContent(body),
            };
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }

            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            if (slot.ReentrancyId is { } id)
            {
                request.Headers.Remove(ReentrancyHeader);
                request.Headers.TryAddWithoutValidation(ReentrancyHeader, id);
            }

            AddAppToken(request);
            using var response = await runtime.AppClient.SendAsync(request, cancellationToken);
            var responseBody = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var responseHeaders = response.Headers
                .Where(h => !Api.Proxy.IsHopByHop(h.Key))
                .Select(h => new KeyValuePair<string, string>(h.Key, string.Join(",", h.Value)))
                .ToList();
            return new ActorResponse((int)response.StatusCode, responseHeaders, responseBody, response.Content.Headers.ContentType?.ToString());
        }
        catch (HttpRequestException ex)
        {
            throw new ActorException(500, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: {ex.Message}");
        }
        finally
        {
            slot.LastUsed = runtime.Environment.Time.GetUtcNow();
            if (reentrant)
            {
                Interlocked.Decrement(ref slot.Depth);
            }
            else
            {
                slot.ReentrancyId = null;
                slot.Depth = 0;
                slot.Gate.Release();
            }
        }
    }

    public void CreateTimer(string actorType, string actorId, string name, JsonObject body)
    {
        var (due, period, repetitions) = ParseSchedule(body, "timer");
        var key = (actorType, actorId, name);
        var remaining = repetitions;
        var payload = new JsonObject
        {
            ["data"] = body["data"]?.DeepClone(),
            ["callback"] = body["callback"]?.DeepClone(),
            ["dueTime"] = body["dueTime"]?.DeepClone() ?? "",
            ["period"] = body["period"]?.DeepClone() ?? "",
        };
        var bytes = Encoding.UTF8.GetBytes(payload.ToJsonString());
        ITimer? timer = null;
        timer = runtime.Environment.Time.CreateTimer(_ =>
        {
            if (remaining is { } left && left <= 0)
            {
                CancelTimer(key);
                return;
            }

            remaining--;
            _ = FireAsync(actorType, actorId, $"timer/{Uri.EscapeDataString(name)}", bytes);
            if (period == Timeout.InfiniteTimeSpan || remaining is 0)
            {
                CancelTimer(key);
            }
        }, null, due, period);
        if (_timers.TryGetValue(key, out var old))
        {
            old.Dispose();
        }

        _timers[key] = timer;
    }

    public bool DeleteTimer(string actorType, string actorId, string name) => CancelTimer((actorType, actorId, name));

    public async Task CreateReminderAsync(string actorType, string actorId, string name, JsonObject body, CancellationToken cancellationToken)
    {
        var store = runtime.ActorStateStore ?? throw new ActorException(500, "ERR_ACTOR_REMINDER_CREATE",
            "error creating actor reminder: actors: state store does not exist or incorrectly configured");
        _ = ParseSchedule(body, "reminder");
        var reminder = new JsonObject
        {
            ["actorID"] = actorId,
            ["actorType"] = actorType,
            ["name"] = name,
            ["data"] = body["data"]?.DeepClone(),
            ["dueTime"] = body["dueTime"]?.DeepClone() ?? "",
            ["period"] = body["period"]?.DeepClone() ?? "",
            ["ttl"] = body["ttl"]?.DeepClone() ?? "",
            ["registeredTime"] = runtime.Environment.Time.GetUtcNow().ToString("O"),
        };
        await UpdateRemindersAsync(store, actorType, list =>
        {
            list.RemoveAll(r => Matches(r, actorId, name));
            list.Add(reminder);
        }, cancellationToken);
        Schedule(reminder);
    }

    public async Task<JsonObject?> GetReminderAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        var store = runtime.ActorStateStore;
        if (store is null)
        {
            return null;
        }

        var (list, _) = await ReadRemindersAsync(store, actorType, cancellationToken);
        return list.FirstOrDefault(r => Matches(r, actorId, name));
    }

    public async Task DeleteReminderAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        if (_reminders.TryRemove((actorType, actorId, name), out var timer))
        {
            timer.Dispose();
        }

        if (runtime.ActorStateStore is { } store)
        {
            await UpdateRemindersAsync(store, actorType, list => list.RemoveAll(r => Matches(r, actorId, name)), cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_scanTimer is not null)
        {
            await _scanTimer.DisposeAsync();
        }

        foreach (var timer in _timers.Values.Concat(_reminders.Values))
        {
            await timer.DisposeAsync();
        }

        _timers.Clear();
        _reminders.Clear();
        _reminderWrites.Dispose();
    }

    private async Task LoadRemindersAsync(CancellationToken cancellationToken)
    {
        if (runtime.ActorStateStore is not { } store)
        {
            return;
        }

        foreach (var type in HostedTypes)
        {
            var (list, _) = await ReadRemindersAsync(store, type, cancellationToken);
            foreach (var reminder in list)
            {
                if (PlacementOf(type, reminder["actorID"]?.GetValue<string>() ?? "")?.InstanceId == runtime.InstanceId)
                {
                    Schedule(reminder);
                }
            }
        }
    }

    private void Schedule(JsonObject reminder)
    {
        var actorType = reminder["actorType"]!.GetValue<string>();
        var actorId = reminder["actorID"]!.GetValue<string>();
        var name = reminder["name"]!.GetValue<string>();
        var key = (actorType, actorId, name);
        var (due, period, repetitions) = ParseSchedule(reminder, "reminder");
        if (DateTimeOffset.TryParse(reminder["registeredTime"]?.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var registered))
        {
            // After a restart the first firing keeps its original schedule (immediately if already due).
            var elapsed = runtime.Environment.Time.GetUtcNow() - registered;
            due = due > elapsed ? due - elapsed : TimeSpan.Zero;
        }

        DateTimeOffset? expires = null;
        if (reminder["ttl"]?.GetValue<string>() is { Length: > 0 } ttlText && DurationParser.TryParse(ttlText, out var ttl))
        {
            expires = registered == default ? runtime.Environment.Time.GetUtcNow() + ttl : registered + ttl;
        }

        var payload = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["data"] = reminder["data"]?.DeepClone(),
            ["dueTime"] = reminder["dueTime"]?.DeepClone() ?? "",
            ["period"] = reminder["period"]?.DeepClone() ?? "",
        }.ToJsonString());
        var remaining = repetitions;
        var timer = runtime.Environment.Time.CreateTimer(_ =>
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    if ((expires is { } end && runtime.Environment.Time.GetUtcNow() >= end) || remaining is <= 0)
                    {
                        await DeleteReminderAsync(actorType, actorId, name, runtime.Stopping);
                        return;
                    }

                    remaining--;
                    await FireAsync(actorType, actorId, $"remind/{Uri.EscapeDataString(name)}", payload);
                    if (period == Timeout.InfiniteTimeSpan || remaining is 0)
                    {
                        await DeleteReminderAsync(actorType, actorId, name, runtime.Stopping);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                {
                    // The sidecar is stopping; the reminder stays stored and fires after the next start.
                }
                catch (Exception ex)
                {
                    LogFireFailed(runtime.Logger, ex, actorType, actorId, "remind/" + name, 0);
                }
            });
        }, null, due, period);
        if (_reminders.TryGetValue(key, out var old))
        {
            old.Dispose();
        }

        _reminders[key] = timer;
    }

    private async Task FireAsync(string actorType, string actorId, string method, byte[] payload)
    {
        try
        {
            var owner = PlacementOf(actorType, actorId);
            if (owner is not null && owner.InstanceId != runtime.InstanceId)
            {
                // Placement moved (a host joined); the new owner fires it.
                return;
            }

            var response = await InvokeLocalAsync(actorType, actorId, method, payload, "application/json", [], null, runtime.Stopping);
            if (response.StatusCode >= 400)
            {
                LogFireFailed(runtime.Logger, null, actorType, actorId, method, response.StatusCode);
            }
        }
        catch (Exception ex) when (ex is ActorException or HttpRequestException or OperationCanceledException)
        {
            LogFireFailed(runtime.Logger, ex, actorType, actorId, method, 0);
        }
    }

    private async Task UpdateRemindersAsync(IStateStore store, string actorType, Action<List<JsonObject>> change, CancellationToken cancellationToken)
    {
        await _reminderWrites.WaitAsync(cancellationToken);
        try
        {
            // Optimistic concurrency on the list, since other sidecars hosting the type write it too.
            for (var attempt = 0; ; attempt++)
            {
                var (list, etag) = await ReadRemindersAsync(store, actorType, cancellationToken);
                change(list);
                var value = Encoding.UTF8.GetBytes(new JsonArray(list.Select(r => (JsonNode)r.DeepClone()).ToArray()).ToJsonString());
                try
                {
                    await store.ExecuteAsync([new StateOperation(StateOperationKind.Upsert, RemindersKey(actorType), value, etag, FirstWrite: etag is null)], cancellationToken);
                    return;
                }
                catch (StateEtagMismatchException) when (attempt < 20)
                {
                    // Someone else wrote the list; read again.
                }
            }
        }
        finally
        {
            _reminderWrites.Release();
        }
    }

    private static async Task<(List<JsonObject> List, string? Etag)> ReadRemindersAsync(IStateStore store, string actorType, CancellationToken cancellationToken)
    {
        var entry = await store.GetAsync(RemindersKey(actorType), cancellationToken);
        if (entry is null || entry.Data.Length == 0)
        {
            return ([], null);
        }

        var list = JsonNode.Parse(entry.Data) is JsonArray array ? array.OfType<JsonObject>().Select(o => (JsonObject)o.DeepClone()).ToList() : [];
        return (list, entry.Etag);
    }

    /// <summary>daprd's legacy reminder layout in the actor state store.</summary>
    private static string RemindersKey(string actorType) => "actors||" + actorType;

    private static bool Matches(JsonObject reminder, string actorId, string name) =>
        reminder["actorID"]?.GetValue<string>() == actorId && reminder["name"]?.GetValue<string>() == name;

    private static (TimeSpan Due, TimeSpan Period, int? Repetitions) ParseSchedule(JsonObject body, string what)
    {
        var dueText = body["dueTime"]?.GetValue<string>();
        var due = TimeSpan.Zero;
        if (!string.IsNullOrEmpty(dueText) && !DurationParser.TryParse(dueText, out due))
        {
            throw new ActorException(400, "ERR_MALFORMED_REQUEST", $"error parsing {what} due time: '{dueText}' is not a duration");
        }

        var periodText = body["period"]?.GetValue<string>();
        var period = Timeout.InfiniteTimeSpan;
        int? repetitions = null;
        if (!string.IsNullOrEmpty(periodText))
        {
            if (!DurationParser.TryParsePeriod(periodText, out period, out repetitions))
            {
                throw new ActorException(400, "ERR_MALFORMED_REQUEST", $"error parsing {what} period: '{periodText}' is not a duration");
            }

            if (period <= TimeSpan.Zero)
            {
                period = Timeout.InfiniteTimeSpan;
            }
        }

        return (due, period, repetitions);
    }

    private bool CancelTimer((string, string, string) key)
    {
        if (_timers.TryRemove(key, out var timer))
        {
            timer.Dispose();
            return true;
        }

        return false;
    }

    private async Task DeactivateIdleAsync()
    {
        var now = runtime.Environment.Time.GetUtcNow();
        foreach (var ((type, id), slot) in _actors)
        {
            if (now - slot.LastUsed < IdleTimeout || !slot.Gate.Wait(0))
            {
                continue;
            }

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(runtime.AppBaseUri!, $"/actors/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(id)}"));
                AddAppToken(request);
                using var response = await runtime.AppClient.SendAsync(request, runtime.Stopping);
                _actors.TryRemove((type, id), out _);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // Try again at the next scan.
            }
            finally
            {
                slot.Gate.Release();
            }
        }
    }

    private void AddAppToken(HttpRequestMessage request)
    {
        if (runtime.Options.AppApiToken is { Length: > 0 } token)
        {
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }
    }

    [LoggerMessage(EventId = LogEvents.NoActorStateStore, Level = LogLevel.Warning, Message = "app '{AppId}' hosts actors but no state store sets actorStateStore: \"true\"; actor state and reminders will fail")]
    private static partial void LogNoActorStore(ILogger logger, string appId);

    [LoggerMessage(EventId = LogEvents.ActorFireFailed, Level = LogLevel.Warning, Message = "actor {ActorType}/{ActorId}: {Method} failed (status {Status})")]
    private static partial void LogFireFailed(ILogger logger, Exception? exception, string actorType, string actorId, string method, int status);

    private sealed class ActorSlot
    {
        public SemaphoreSlim Gate { get; } = new(1);

        public volatile string? ReentrancyId;

        public int Depth;

        public DateTimeOffset LastUsed;
    }
}
