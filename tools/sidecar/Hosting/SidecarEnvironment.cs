using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MoeDapr.Sidecar.Discovery;
using MoeDapr.Sidecar.PubSub;
using MoeDapr.Sidecar.Resources;
using MoeDapr.Sidecar.State;
using StackExchange.Redis;

namespace MoeDapr.Sidecar.Hosting;

/// <summary>
/// What the sidecars of one process share: the app directory, in-memory components (so apps in one process
/// see the same in-memory state and topics) and Redis connections.
/// </summary>
public sealed class SidecarEnvironment : IAsyncDisposable
{
    /// <summary>Component types this sidecar implements.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["state.redis", "state.in-memory", "pubsub.redis", "pubsub.in-memory"];

    private readonly ConcurrentDictionary<string, Lazy<object>> _shared = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ConnectionMultiplexer>>> _redis = new(StringComparer.Ordinal);

    public SidecarEnvironment(string? registryPath = null, TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
    {
        Time = time ?? TimeProvider.System;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Directory = new AppDirectory(registryPath, Time);
    }

    public TimeProvider Time { get; }

    public ILoggerFactory LoggerFactory { get; }

    public AppDirectory Directory { get; }

    /// <summary>Creates (or, for in-memory ones, shares) the components of an app; a bad spec throws with its name.</summary>
    public async Task<(Dictionary<string, IStateStore> States, Dictionary<string, IPubSub> PubSubs)> CreateComponentsAsync(
        IEnumerable<ComponentSpec> specs, CancellationToken cancellationToken)
    {
        var states = new Dictionary<string, IStateStore>(StringComparer.Ordinal);
        var pubsubs = new Dictionary<string, IPubSub>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            switch (spec.Type)
            {
                case "state.in-memory":
                    states[spec.Name] = (IStateStore)_shared.GetOrAdd(spec.Type + "/" + spec.Name, _ => new(() => new InMemoryStateStore(spec, Time))).Value;
                    break;
                case "pubsub.in-memory":
                    pubsubs[spec.Name] = (IPubSub)_shared.GetOrAdd(spec.Type + "/" + spec.Name, _ => new(() => new InMemoryPubSub(spec))).Value;
                    break;
                case "state.redis":
                {
                    var (multiplexer, _) = await ConnectRedisAsync(spec, cancellationToken);
                    states[spec.Name] = new RedisStateStore(spec, multiplexer);
                    break;
                }

                case "pubsub.redis":
                {
                    var (multiplexer, config) = await ConnectRedisAsync(spec, cancellationToken);
                    pubsubs[spec.Name] = new RedisPubSub(spec, multiplexer, config, LoggerFactory.CreateLogger<RedisPubSub>());
                    break;
                }

                default:
                    throw new SidecarResourceException(
                        $"component '{spec.Name}' in {spec.Source}: type '{spec.Type}' is not supported (supported: {string.Join(", ", SupportedTypes)}).");
            }
        }

        var actorStores = states.Values.Where(s => s.IsActorStateStore).ToList();
        if (actorStores.Count > 1)
        {
            throw new SidecarResourceException(
                $"more than one state store sets actorStateStore: \"true\" ({string.Join(", ", actorStores.Select(s => s.Name))}); daprd allows one.");
        }

        return (states, pubsubs);
    }

    public async ValueTask DisposeAsync()
    {
        await Directory.DisposeAsync();
        foreach (var connection in _redis.Values)
        {
            if (connection.IsValueCreated && connection.Value.IsCompletedSuccessfully)
            {
                await connection.Value.Result.CloseAsync();
                connection.Value.Result.Dispose();
            }
        }

    }

    private async Task<(ConnectionMultiplexer, ConfigurationOptions)> ConnectRedisAsync(ComponentSpec spec, CancellationToken cancellationToken)
    {
        var host = spec.Require("redisHost");
        var config = new ConfigurationOptions
        {
            Password = spec.Get("redisPassword"),
            User = spec.Get("redisUsername"),
            Ssl = spec.GetBool("enableTLS", false),
            AbortOnConnectFail = false,
            ConnectTimeout = 5000,
            ClientName = "moedapr-sidecar",
        };
        config.EndPoints.Add(host);
        var key = host + "|" + config.User + "|" + config.Password + "|" + config.Ssl;
        var lazy = _redis.GetOrAdd(key, _ => new(() => ConnectionMultiplexer.ConnectAsync(config)));
        ConnectionMultiplexer multiplexer;
        try
        {
            multiplexer = await lazy.Value.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            await multiplexer.GetDatabase().PingAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            _redis.TryRemove(key, out _);
            throw new SidecarResourceException($"component '{spec.Name}' in {spec.Source}: cannot reach Redis at redisHost '{host}': {ex.Message}");
        }

        return (multiplexer, config);
    }
}
