using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.State;

/// <summary>state.in-memory: a process-wide dictionary with versions and TTL, shared by the sidecars of one process.</summary>
public sealed class InMemoryStateStore : IStateStore
{
    private readonly Dictionary<string, (byte[] Data, long Version, DateTimeOffset? ExpiresAt)> _items = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public InMemoryStateStore(ComponentSpec spec, TimeProvider time)
    {
        Name = spec.Name;
        IsActorStateStore = spec.GetBool("actorStateStore", false);
        KeyPrefix = spec.Get("keyPrefix") ?? "appid";
        _time = time;
    }

    public string Name { get; }

    public string Type => "state.in-memory";

    public bool IsActorStateStore { get; }

    public string KeyPrefix { get; }

    public Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(TryGetLive(key, out var item)
                ? new StateEntry(item.Data, item.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
                : null);
        }
    }

    public Task ExecuteAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            foreach (var op in operations)
            {
                var exists = TryGetLive(op.Key, out var current);
                if (op.Etag is { Length: > 0 })
                {
                    if (!exists || current.Version.ToString(System.Globalization.CultureInfo.InvariantCulture) != op.Etag)
                    {
                        throw new StateEtagMismatchException(op.Key);
                    }
                }
                else if (op.FirstWrite && exists && op.Kind == StateOperationKind.Upsert)
                {
                    throw new StateEtagMismatchException(op.Key);
                }
            }

            var now = _time.GetUtcNow();
            foreach (var op in operations)
            {
                if (op.Kind == StateOperationKind.Delete)
                {
                    _items.Remove(op.Key);
                    continue;
                }

                var version = TryGetLive(op.Key, out var current) ? current.Version + 1 : 1;
                DateTimeOffset? expires = op.Ttl is { } ttl && ttl > TimeSpan.Zero ? now + ttl : null;
                _items[op.Key] = (op.Value ?? [], version, expires);
            }
        }

        return Task.CompletedTask;
    }

    private bool TryGetLive(string key, out (byte[] Data, long Version, DateTimeOffset? ExpiresAt) item)
    {
        if (_items.TryGetValue(key, out item))
        {
            if (item.ExpiresAt is { } expires && expires <= _time.GetUtcNow())
            {
                _items.Remove(key);
                return false;
            }

            return true;
        }

        return false;
    }
}
