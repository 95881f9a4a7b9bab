namespace MoeDapr.Engine.Kv;

/// <summary>
/// KV blocks held under <see cref="EngineKvHandle"/>s between a prefill (or an import) and the decode or export that
/// uses them. Each handle holds its blocks' references in the <see cref="BlockPool"/> until it is taken, released, or
/// its lease ends: a caller that never comes back cannot keep blocks forever. Engine thread only.
/// </summary>
internal sealed class KvHandleTable(BlockPool pool, TimeProvider time, TimeSpan lease)
{
    private readonly Dictionary<long, HeldKv> _held = [];
    private long _nextId = 1;

    /// <summary>Handles currently held.</summary>
    public int Count => _held.Count;

    /// <summary>Holds <paramref name="blocks"/> (their references pass to the table) for the KV of <paramref name="tokens"/>.</summary>
    public EngineKvHandle Hold(int[] tokens, List<int> blocks, List<UInt128> hashes)
    {
        var id = _nextId++;
        _held[id] = new HeldKv(tokens, blocks, hashes, time.GetUtcNow() + lease);
        return new EngineKvHandle(id, tokens.Length);
    }

    /// <summary>Removes the handle and hands its blocks' references to the caller.</summary>
    /// <exception cref="ArgumentException">The handle is unknown, expired or already used.</exception>
    public HeldKv Take(EngineKvHandle handle) =>
        _held.Remove(handle.Id, out var held) ? held : throw Unknown(handle, "already used");

    /// <summary>The KV under a handle, which stays held.</summary>
    /// <exception cref="ArgumentException">The handle is unknown, expired or released.</exception>
    public HeldKv Get(EngineKvHandle handle) =>
        _held.TryGetValue(handle.Id, out var held) ? held : throw Unknown(handle, "released");

    /// <summary>Frees a handle's blocks; false when it was not held.</summary>
    public bool Release(EngineKvHandle handle)
    {
        if (!_held.Remove(handle.Id, out var held))
        {
            return false;
        }

        pool.ReleaseAll(held.Blocks);
        return true;
    }

    /// <summary>Frees the handles whose lease has ended; returns how many.</summary>
    public int ReleaseExpired()
    {
        var now = time.GetUtcNow();
        var expired = _held.Where(h => h.Value.Expires <= now).Select(h => h.Key).ToArray();
        foreach (var id in expired)
        {
            _held.Remove(id, out var held);
            pool.ReleaseAll(held!.Blocks);
        }

        return expired.Length;
    }

    /// <summary>Frees every handle (shutdown).</summary>
    public void ReleaseAll()
    {
        foreach (var held in _held.Values)
        {
            pool.ReleaseAll(held.Blocks);
        }

        _held.Clear();
    }

    private static ArgumentException Unknown(EngineKvHandle handle, string state) =>
        new($"KV handle {handle.Id} is unknown, expired or {state}", nameof(handle));
}
