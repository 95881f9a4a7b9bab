namespace MoeDapr.Engine.Kv;

/// <summary>
/// Bookkeeping of the KV blocks: reference counts, free list, and the prefix cache (full blocks indexed by
/// their <see cref="MoeDapr.Model.PrefixBlockHash"/>). A cached block nobody references stays reusable until
/// the pool runs out of free blocks; then the least recently released one is evicted.
/// </summary>
public sealed class BlockPool
{
    private readonly int[] _refCounts;
    private readonly UInt128?[] _hashes;
    private readonly Dictionary<UInt128, int> _cached = [];
    private readonly Stack<int> _free = new();
    private readonly LinkedList<int> _evictable = new(); // least recently released first
    private readonly LinkedListNode<int>?[] _evictableNodes;

    public BlockPool(int numBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numBlocks);
        Total = numBlocks;
        _refCounts = new int[numBlocks];
        _hashes = new UInt128?[numBlocks];
        _evictableNodes = new LinkedListNode<int>?[numBlocks];
        for (var b = numBlocks - 1; b >= 0; b--)
        {
            _free.Push(b);
        }
    }

    public int Total { get; }

    /// <summary>Blocks that can be handed out now (free plus evictable cached).</summary>
    public int Available => _free.Count + _evictable.Count;

    /// <summary>Blocks referenced by at least one sequence or handle.</summary>
    public int Used => Total - Available;

    /// <summary>Full blocks looked up in the prefix cache, and how many were found.</summary>
    public long PrefixQueries { get; private set; }

    public long PrefixHits { get; private set; }

    public int RefCount(int block) => _refCounts[block];

    /// <summary>Takes one block (reference count 1), evicting the least recently used cached block if needed.</summary>
    public int Allocate()
    {
        int block;
        if (_free.Count > 0)
        {
            block = _free.Pop();
        }
        else if (_evictable.First is { } oldest)
        {
            block = oldest.Value;
            _evictable.RemoveFirst();
            _evictableNodes[block] = null;
            _cached.Remove(_hashes[block]!.Value);
            _hashes[block] = null;
        }
        else
        {
            throw new InvalidOperationException("the KV block pool is exhausted");
        }

        _refCounts[block] = 1;
        return block;
    }

    /// <summary>Looks up a full block by hash; on a hit the block gains a reference.</summary>
    public bool TryReuse(UInt128 hash, out int block)
    {
        PrefixQueries++;
        if (!_cached.TryGetValue(hash, out block))
        {
            return false;
        }

        PrefixHits++;
        Retain(block);
        return true;
    }

    /// <summary>Whether a block with <paramref name="hash"/> is cached (no reference taken, no statistics).</summary>
    public bool Contains(UInt128 hash) => _cached.ContainsKey(hash);

    /// <summary>Records that <paramref name="block"/> now holds the full block with <paramref name="hash"/>.</summary>
    public void Register(int block, UInt128 hash)
    {
        if (_hashes[block] is not null || _cached.ContainsKey(hash))
        {
            return; // an equal block is cached already; this copy stays private to its sequence
        }

        _hashes[block] = hash;
        _cached[hash] = block;
    }

    public void Retain(int block)
    {
        if (_refCounts[block] == 0)
        {
            if (_evictableNodes[block] is not { } node)
            {
                throw new InvalidOperationException($"block {block} is free; it cannot be retained");
            }

            _evictable.Remove(node);
            _evictableNodes[block] = null;
        }

        _refCounts[block]++;
    }

    /// <summary>Drops one reference; at zero a cached block becomes evictable and any other block free.</summary>
    public void Release(int block)
    {
        if (_refCounts[block] <= 0)
        {
            throw new InvalidOperationException($"block {block} released more often than taken");
        }

        if (--_refCounts[block] > 0)
        {
            return;
        }

        if (_hashes[block] is not null)
        {
            _evictableNodes[block] = _evictable.AddLast(block);
        }
        else
        {
            _free.Push(block);
        }
    }

    public void ReleaseAll(IEnumerable<int> blocks)
    {
        foreach (var block in blocks)
        {
            Release(block);
        }
    }
}
