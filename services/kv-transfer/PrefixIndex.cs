namespace MoeDapr.KvTransfer;

/// <summary>
/// Maps prefix block hashes (PrefixBlockHash hex strings) to the committed payloads holding those blocks.
/// Several payloads may hold the same block; the newest is served, the others remain as fallbacks until
/// released. Not thread-safe: the block store calls it under its lock.
/// </summary>
public sealed class PrefixIndex
{
    private readonly Dictionary<string, List<(Guid Handle, int Block)>> _byHash = new(StringComparer.Ordinal);

    public int Count => _byHash.Count;

    public void Add(Guid handle, IReadOnlyList<string> hashes)
    {
        for (var block = 0; block < hashes.Count; block++)
        {
            if (!_byHash.TryGetValue(hashes[block], out var holders))
            {
                holders = [];
                _byHash[hashes[block]] = holders;
            }

            holders.Add((handle, block));
        }
    }

    public void Remove(Guid handle, IReadOnlyList<string> hashes)
    {
        foreach (var hash in hashes)
        {
            if (_byHash.TryGetValue(hash, out var holders))
            {
                holders.RemoveAll(h => h.Handle == handle);
                if (holders.Count == 0)
                {
                    _byHash.Remove(hash);
                }
            }
        }
    }

    /// <summary>The payload and block index of the newest holder of <paramref name="hash"/>.</summary>
    public bool TryFind(string hash, out Guid handle, out int block)
    {
        if (_byHash.TryGetValue(hash, out var holders) && holders.Count > 0)
        {
            (handle, block) = holders[^1];
            return true;
        }

        handle = default;
        block = -1;
        return false;
    }
}
