namespace MoeDapr.Sidecar.State;

/// <summary>A stored value and its etag.</summary>
public sealed record StateEntry(byte[] Data, string Etag);

/// <summary>What a transaction or a single write does to one key.</summary>
public enum StateOperationKind
{
    Upsert,
    Delete,
}

/// <summary>One write: key is the full store key (daprd's prefix already applied).</summary>
public sealed record StateOperation(
    StateOperationKind Kind,
    string Key,
    byte[]? Value = null,
    string? Etag = null,
    bool FirstWrite = false,
    TimeSpan? Ttl = null);

/// <summary>A state store component (state.redis, state.in-memory).</summary>
public interface IStateStore
{
    string Name { get; }

    string Type { get; }

    /// <summary>True when the component's metadata says actorStateStore: "true".</summary>
    bool IsActorStateStore { get; }

    /// <summary>How keys are prefixed: "appid" (default), "name", "none" or a fixed prefix.</summary>
    string KeyPrefix { get; }

    Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Applies all operations or none; a failed etag check throws <see cref="StateEtagMismatchException"/>.</summary>
    Task ExecuteAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);
}

/// <summary>An etag check failed (the stored version differs, or first-write found an existing key).</summary>
public sealed class StateEtagMismatchException(string key) : Exception($"possible etag mismatch for key {key}")
{
    public string Key { get; } = key;
}

/// <summary>daprd's key layout: "{appId}||{key}" unless keyPrefix says otherwise.</summary>
public static class StateKeys
{
    public const string Separator = "||";

    public static string For(IStateStore store, string appId, string key) => store.KeyPrefix switch
    {
        "appid" => appId + Separator + key,
        "name" => store.Name + Separator + key,
        "none" => key,
        var prefix => prefix + Separator + key,
    };

    /// <summary>Removes the prefix again (for bulk answers keyed by the caller's key).</summary>
    public static string Strip(string fullKey)
    {
        var index = fullKey.IndexOf(Separator, StringComparison.Ordinal);
        return index < 0 ? fullKey : fullKey[(index + Separator.Length)..];
    }

    /// <summary>The actor state key: "{appId}||{actorType}||{actorId}||{key}".</summary>
    public static string ForActor(string appId, string actorType, string actorId, string key) =>
        string.Join(Separator, appId, actorType, actorId, key);
}
