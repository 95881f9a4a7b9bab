using System.Collections.Concurrent;
using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace MoeDapr.Sidecar.Tests.Conformance;

/// <summary>An actor the tests drive through ActorProxy.</summary>
public interface ICounterActor : IActor
{
    Task<int> IncrementAsync(int by);

    Task<int> GetAsync();

    Task<int> SlowAsync();

    Task ArmReminderAsync(string token, int dueMilliseconds);

    Task ArmTimerAsync(int periodMilliseconds);
}

/// <summary>Counts in actor state; records how many calls run at once and which reminders fired.</summary>
public sealed class CounterActor(ActorHost host) : Actor(host), ICounterActor, IRemindable
{
    public static readonly ConcurrentDictionary<string, int> Running = new();
    public static readonly ConcurrentDictionary<string, int> MaxRunning = new();
    public static readonly ConcurrentDictionary<string, string> Reminded = new();

    public async Task<int> IncrementAsync(int by)
    {
        var value = await StateManager.GetOrAddStateAsync("count", 0) + by;
        await StateManager.SetStateAsync("count", value);
        return value;
    }

    public Task<int> GetAsync() => StateManager.GetOrAddStateAsync("count", 0);

    public async Task<int> SlowAsync()
    {
        var id = Id.GetId();
        var now = Running.AddOrUpdate(id, 1, (_, n) => n + 1);
        MaxRunning.AddOrUpdate(id, now, (_, m) => Math.Max(m, now));

        // Work that yields: without turn-based calls another call would start meanwhile.
        await Task.Yield();
        await Task.Delay(15);
        Running.AddOrUpdate(id, 0, (_, n) => n - 1);
        return now;
    }

    public Task ArmReminderAsync(string token, int dueMilliseconds) =>
        RegisterReminderAsync("ping", Encoding.UTF8.GetBytes(token), TimeSpan.FromMilliseconds(dueMilliseconds), TimeSpan.FromMilliseconds(-1));

    public static readonly ConcurrentDictionary<string, int> Ticks = new();

    public Task ArmTimerAsync(int periodMilliseconds) =>
        RegisterTimerAsync("tick", nameof(OnTickAsync), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(periodMilliseconds));

    public Task OnTickAsync(byte[]? state)
    {
        Ticks.AddOrUpdate(Id.GetId(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        Reminded[Id.GetId()] = reminderName + ":" + Encoding.UTF8.GetString(state);
        return Task.CompletedTask;
    }
}

/// <summary>Dapr.Actors (ActorProxy and the actor runtime) against the sidecar with in-memory and Redis state.</summary>
public sealed class ActorTests(RedisServer redis) : IClassFixture<RedisServer>
{
    private static Task<TestApp> StartActorAppAsync(int sidecarHttpPort) => TestApp.StartAsync(
        builder => builder.Services.AddActors(options =>
        {
            options.Actors.RegisterActor<CounterActor>();
            options.HttpEndpoint = $"http://127.0.0.1:{sidecarHttpPort}";
        }),
        app => app.MapActorsHandlers());

    private static ICounterActor Proxy(InProcessSidecar sidecar, string id) =>
        ActorProxy.Create<ICounterActor>(new ActorId(id), nameof(CounterActor), new ActorProxyOptions { HttpEndpoint = sidecar.HttpEndpoint });

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task ActorProxy_Calls_KeepStateInActorStore(string kind)
    {
        var port = FreePort.Next();
        await using var app = await StartActorAppAsync(port);
        using var components = Components.Create(kind, redis.Host);
        await using var sidecar = await Sidecars.StartAsync("actors-app", components, app.Port, o => o.HttpPort = port);
        var id = Guid.NewGuid().ToString("N");
        var actor = Proxy(sidecar, id);

        Assert.Equal(2, await actor.IncrementAsync(2));
        Assert.Equal(5, await actor.IncrementAsync(3));
        Assert.Equal(5, await actor.GetAsync());

        using var http = new HttpClient();
        var stored = await http.GetStringAsync($"{sidecar.HttpEndpoint}/v1.0/actors/{nameof(CounterActor)}/{id}/state/count");
        Assert.Equal("5", stored);
        if (kind == "redis")
        {
            var hash = await redis.Connection!.GetDatabase().HashGetAsync($"actors-app||{nameof(CounterActor)}||{id}||count", "data");
            Assert.Equal("5", hash.ToString());
        }
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task ActorProxy_ConcurrentCallsToOneActor_RunOneAtATime(string kind)
    {
        var port = FreePort.Next();
        await using var app = await StartActorAppAsync(port);
        using var components = Components.Create(kind, redis.Host);
        await using var sidecar = await Sidecars.StartAsync("actors-app", components, app.Port, o => o.HttpPort = port);
        var id = Guid.NewGuid().ToString("N");
        var other = Guid.NewGuid().ToString("N");

        var calls = Enumerable.Range(0, 8).Select(_ => Proxy(sidecar, id).SlowAsync())
            .Concat(Enumerable.Range(0, 8).Select(_ => Proxy(sidecar, other).SlowAsync()));
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Equal(1, r));
        Assert.Equal(1, CounterActor.MaxRunning[id]);
        Assert.Equal(1, CounterActor.MaxRunning[other]);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Reminder_Registered_FiresWithItsData(string kind)
    {
        var port = FreePort.Next();
        await using var app = await StartActorAppAsync(port);
        using var components = Components.Create(kind, redis.Host);
        await using var sidecar = await Sidecars.StartAsync("actors-app", components, app.Port, o => o.HttpPort = port);
        var id = Guid.NewGuid().ToString("N");

        await Proxy(sidecar, id).ArmReminderAsync("tok-" + id, 100);

        await Poll.UntilAsync(() => CounterActor.Reminded.ContainsKey(id), Sidecars.Timeout, "the reminder");
        Assert.Equal("ping:tok-" + id, CounterActor.Reminded[id]);
    }

    [Fact]
    public async Task Timer_Periodic_FiresRepeatedly()
    {
        var port = FreePort.Next();
        await using var app = await StartActorAppAsync(port);
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("timer-app", components, app.Port, o => o.HttpPort = port);
        var id = Guid.NewGuid().ToString("N");

        await Proxy(sidecar, id).ArmTimerAsync(50);

        await Poll.UntilAsync(() => CounterActor.Ticks.GetValueOrDefault(id) >= 3, Sidecars.Timeout, "three timer ticks");
    }

    [Fact]
    public async Task Reminder_SidecarRestartsBeforeDue_FiresAfterRestart()
    {
        var port = FreePort.Next();
        await using var app = await StartActorAppAsync(port);
        using var components = Components.Create("redis", redis.Host);
        var id = Guid.NewGuid().ToString("N");
        await using (var first = await Sidecars.StartAsync("restart-app", components, app.Port, o => o.HttpPort = port))
        {
            await Proxy(first, id).ArmReminderAsync("persisted", 1500);
        }

        Assert.False(CounterActor.Reminded.ContainsKey(id));
        await using var second = await Sidecars.StartAsync("restart-app", components, app.Port, o => o.HttpPort = port);

        await Poll.UntilAsync(() => CounterActor.Reminded.ContainsKey(id), Sidecars.Timeout, "the reminder after restart");
        Assert.Equal("ping:persisted", CounterActor.Reminded[id]);
    }
}
