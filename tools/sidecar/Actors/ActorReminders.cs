using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.Resources;
using MoeDapr.Sidecar.State;

namespace MoeDapr.Sidecar.Actors;

/// <summary>
/// Actor reminders: persisted in the actor state store in daprd's legacy layout (one list per type under
/// "actors||{type}", written with optimistic concurrency since every host of the type writes it), scheduled on the
/// host that owns the id, kept on their schedule across restarts, and ended by their period's repetitions or ttl.
/// </summary>
public sealed class ActorReminders(SidecarRuntime runtime, ActorPlacement placement, ActorFire fire) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Type, string Id, string Name), ITimer> _reminders = new();
    private readonly SemaphoreSlim _writes = new(1);

    public async Task CreateAsync(string actorType, string actorId, string name, JsonObject body, CancellationToken cancellationToken)
    {
        var store = runtime.ActorStateStore ?? throw new ActorException(500, "ERR_ACTOR_REMINDER_CREATE",
            "error creating actor reminder: actors: state store does not exist or incorrectly configured");
        _ = ActorSchedule.Parse(body, "reminder");
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
        await UpdateAsync(store, actorType, list =>
        {
            list.RemoveAll(r => Matches(r, actorId, name));
            list.Add(reminder);
        }, cancellationToken);
        Schedule(reminder);
    }

    public async Task<JsonObject?> GetAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        if (runtime.ActorStateStore is not { } store)
        {
            return null;
        }

        var (list, _) = await ReadAsync(store, actorType, cancellationToken);
        return list.FirstOrDefault(r => Matches(r, actorId, name));
    }

    public async Task DeleteAsync(string actorType, string actorId, string name, CancellationToken cancellationToken)
    {
        if (_reminders.TryRemove((actorType, actorId, name), out var timer))
        {
            timer.Dispose();
        }

        if (runtime.ActorStateStore is { } store)
        {
            await UpdateAsync(store, actorType, list => list.RemoveAll(r => Matches(r, actorId, name)), cancellationToken);
        }
    }

    /// <summary>Schedules the stored reminders of <paramref name="hostedTypes"/> whose ids are placed on this sidecar.</summary>
    public async Task LoadAsync(IEnumerable<string> hostedTypes, CancellationToken cancellationToken)
    {
        if (runtime.ActorStateStore is not { } store)
        {
            return;
        }

        foreach (var type in hostedTypes)
        {
            var (list, _) = await ReadAsync(store, type, cancellationToken);
            foreach (var reminder in list)
            {
                if (placement.Of(type, reminder["actorID"]?.GetValue<string>() ?? "")?.InstanceId == runtime.InstanceId)
                {
                    Schedule(reminder);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var timer in _reminders.Values)
        {
            await timer.DisposeAsync();
        }

        _reminders.Clear();
        _writes.Dispose();
    }

    private void Schedule(JsonObject reminder)
    {
        var actorType = reminder["actorType"]!.GetValue<string>();
        var actorId = reminder["actorID"]!.GetValue<string>();
        var name = reminder["name"]!.GetValue<string>();
        var key = (actorType, actorId, name);
        var schedule = ActorSchedule.Parse(reminder, "reminder");
        var due = schedule.Due;
        if (DateTimeOffset.TryParse(reminder["registeredTime"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var registered))
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
        var remaining = schedule.Repetitions;
        var timer = runtime.Environment.Time.CreateTimer(_ =>
        {
            _ = Task.Run(async () =>
            {
                try
                {
                    if ((expires is { } end && runtime.Environment.Time.GetUtcNow() >= end) || remaining is <= 0)
                    {
                        await DeleteAsync(actorType, actorId, name, runtime.Stopping);
                        return;
                    }

                    remaining--;
                    await fire(actorType, actorId, $"remind/{Uri.EscapeDataString(name)}", payload);
                    if (schedule.IsOneShot || remaining is 0)
                    {
                        await DeleteAsync(actorType, actorId, name, runtime.Stopping);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                {
                    // The sidecar is stopping; the reminder stays stored and fires after the next start.
                }
                catch (Exception ex)
                {
                    ActorLog.FireFailed(runtime.Logger, ex, actorType, actorId, "remind/" + name, 0);
                }
            });
        }, null, due, schedule.Period);
        if (_reminders.TryGetValue(key, out var old))
        {
            old.Dispose();
        }

        _reminders[key] = timer;
    }

    private async Task UpdateAsync(IStateStore store, string actorType, Action<List<JsonObject>> change, CancellationToken cancellationToken)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            // Optimistic concurrency on the list, since other sidecars hosting the type write it too.
            for (var attempt = 0; ; attempt++)
            {
                var (list, etag) = await ReadAsync(store, actorType, cancellationToken);
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
            _writes.Release();
        }
    }

    private static async Task<(List<JsonObject> List, string? Etag)> ReadAsync(IStateStore store, string actorType, CancellationToken cancellationToken)
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
}
