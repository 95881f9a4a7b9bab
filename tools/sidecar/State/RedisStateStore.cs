using System.Globalization;
using MoeDapr.Sidecar.Resources;
using StackExchange.Redis;

namespace MoeDapr.Sidecar.State;

/// <summary>
/// state.redis with daprd's layout: one hash per key with fields "data" (the value bytes) and "version"
/// (the etag, incremented on every write); etag and first-write checks run as MULTI/EXEC conditions.
/// </summary>
public sealed class RedisStateStore : IStateStore
{
    private static readonly RedisValue DataField = "data";
    private static readonly RedisValue VersionField = "version";
    private readonly IConnectionMultiplexer _redis;
    private readonly int _database;

    public RedisStateStore(ComponentSpec spec, IConnectionMultiplexer redis)
    {
        Name = spec.Name;
        IsActorStateStore = spec.GetBool("actorStateStore", false);
        KeyPrefix = spec.Get("keyPrefix") ?? "appid";
        _database = spec.GetInt("redisDB", 0, 0);
        _redis = redis;
    }

    public string Name { get; }

    public string Type => "state.redis";

    public bool IsActorStateStore { get; }

    public string KeyPrefix { get; }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase(_database);
        var values = await db.HashGetAsync(key, [DataField, VersionField]).WaitAsync(cancellationToken);
        if (values[0].IsNull)
        {
            return null;
        }

        return new StateEntry((byte[])values[0]!, values[1].IsNull ? "1" : values[1].ToString());
    }

    public async Task ExecuteAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase(_database);
        var transaction = db.CreateTransaction();
        var pending = new List<Task>(operations.Count * 3);
        foreach (var op in operations)
        {
            RedisKey key = op.Key;
            if (op.Etag is { Length: > 0 })
            {
                if (!long.TryParse(op.Etag, NumberStyles.Integer, CultureInfo.InvariantCulture, out var version))
                {
                    throw new StateEtagMismatchException(op.Key);
                }

                transaction.AddCondition(Condition.HashEqual(key, VersionField, version));
            }
            else if (op.FirstWrite && op.Kind == StateOperationKind.Upsert)
            {
                transaction.AddCondition(Condition.KeyNotExists(key));
            }

            if (op.Kind == StateOperationKind.Delete)
            {
                pending.Add(transaction.KeyDeleteAsync(key));
                continue;
            }

            pending.Add(transaction.HashSetAsync(key, DataField, op.Value ?? []));
            pending.Add(transaction.HashIncrementAsync(key, VersionField, 1));
            if (op.Ttl is { } ttl && ttl > TimeSpan.Zero)
            {
                pending.Add(transaction.KeyExpireAsync(key, ttl));
            }
            else
            {
                pending.Add(transaction.KeyPersistAsync(key));
            }
        }

        var committed = await transaction.ExecuteAsync().WaitAsync(cancellationToken);
        if (!committed)
        {
            throw new StateEtagMismatchException(string.Join(", ", operations.Select(o => o.Key)));
        }

        await Task.WhenAll(pending);
    }
}
