using System.Runtime.InteropServices;
using MoeDapr.Engine.Kv;
using MoeDapr.Model;

namespace MoeDapr.Engine.Scheduling;

/// <summary>A sequence's block list against the pool: prefix reuse, prefix-cache registration, freeing, block counts.</summary>
internal static class SequenceBlocks
{
    /// <summary>Blocks that hold <paramref name="tokens"/> tokens.</summary>
    public static int For(int blockSize, int tokens) => (tokens + blockSize - 1) / blockSize;

    /// <summary>Takes cached blocks for the longest cached prefix, leaving at least one token to compute.</summary>
    public static void ReusePrefix(BlockPool pool, int blockSize, Sequence s)
    {
        var tokens = s.Tokens.ToArray();
        var hashes = PrefixBlockHash.Chain(tokens.AsSpan(0, tokens.Length - 1), blockSize);
        foreach (var hash in hashes)
        {
            if (!pool.TryReuse(hash, out var block))
            {
                break;
            }

            s.Blocks.Add(block);
            s.Hashes.Add(hash);
        }

        s.Computed = s.Blocks.Count * blockSize;
        s.CachedTokens = s.Computed;
    }

    /// <summary>Hashes the sequence's newly full blocks and registers them in the pool's prefix cache.</summary>
    public static void RegisterFull(BlockPool pool, int blockSize, Sequence s)
    {
        var full = s.Computed / blockSize;
        while (s.Hashes.Count < full)
        {
            var b = s.Hashes.Count;
            var parent = b == 0 ? PrefixBlockHash.Root : s.Hashes[b - 1];
            var hash = PrefixBlockHash.Compute(parent, CollectionsMarshal.AsSpan(s.Tokens).Slice(b * blockSize, blockSize));
            s.Hashes.Add(hash);
            pool.Register(s.Blocks[b], hash);
        }
    }

    /// <summary>Gives the sequence's blocks back to the pool (cached ones stay findable by hash until reused).</summary>
    public static void Free(BlockPool pool, Sequence s)
    {
        pool.ReleaseAll(s.Blocks);
        s.Blocks.Clear();
        s.Hashes.Clear();
    }
}
