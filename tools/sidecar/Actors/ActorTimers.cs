using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Actors;

/// <summary>Actor timers: in memory only (daprd forgets them on restart), fired as PUT .../method/timer/{name}.</summary>
public sealed class ActorTimers(SidecarRuntime runtime, ActorFire fire) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<(string Type, string Id, string Name), ITimer> _timers = new();

    /// <summary>Creates or replaces a timer; the body holds dueTime, period, callback and data.</summary>
    public void Create(string actorType, string actorId, string name, JsonObject body)
    {
        var schedule = ActorSchedule.Parse(body, "timer");
        var key = (actorType, actorId, name);
        var remaining = schedule.Repetitions;
        var payload = new JsonObject
        {
            ["data"] = body["data"]?.DeepClone(),
            ["callback"] = body["callback"]?.DeepClone(),
            ["dueTime"] = body["dueTime"]?.DeepClone() ?? "",
            ["period"] = body["period"]?.DeepClone() ?? "",
        };
        var bytes = Encoding.UTF8.GetBytes(payload.ToJsonString());
        var timer = runtime.Environment.Time.CreateTimer(_ =>
        {
            if (remaining is { } left && left <= 0)
            {
                Delete(key);
                return;
            }

            remaining--;
            _ = fire(actorType, actorId, $"timer/{Uri.EscapeDataString(name)}", bytes);
            if (schedule.IsOneShot || remaining is 0)
            {
                Delete(key);
            }
        }, null, schedule.Due, schedule.Period);
        if (_timers.TryGetValue(key, out var old))
        {
            old.Dispose();
        }

        _timers[key] = timer;
    }

    /// <summary>Stops a timer; false when there was none.</summary>
    public bool Delete(string actorType, string actorId, string name) => Delete((actorType, actorId, name));

    public async ValueTask DisposeAsync()
    {
        foreach (var timer in _timers.Values)
        {
            await timer.DisposeAsync();
        }

        _timers.Clear();
    }

    private bool Delete((string, string, string) key)
    {
        if (_timers.TryRemove(key, out var timer))
        {
            timer.Dispose();
            return true;
        }

        return false;
    }
}
