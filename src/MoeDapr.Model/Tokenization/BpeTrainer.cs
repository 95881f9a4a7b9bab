namespace MoeDapr.Model.Tokenization;

/// <summary>
/// Learns BPE merges from word counts: repeatedly merges the most frequent adjacent pair (ties broken by the
/// lower pair of ids, so training is deterministic). Pair counts are updated incrementally per affected word,
/// and the queue is lazy: a popped pair whose count went stale is pushed again with its current count.
/// </summary>
public static class BpeTrainer
{
    /// <param name="wordCounts">Pre-tokenized words (in the alphabet's characters) and how often each occurs.</param>
    /// <param name="alphabet">Initial single-character tokens, in id order; characters outside it are dropped from words.</param>
    /// <param name="targetTokens">Stop when this many tokens exist (alphabet included).</param>
    public static BpeTrainingResult Train(IReadOnlyDictionary<string, long> wordCounts, IReadOnlyList<string> alphabet, int targetTokens,
        CancellationToken cancellationToken = default)
    {
        var tokens = new List<string>(alphabet);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            ids.TryAdd(tokens[i], i);
        }

        var words = new List<int[]>(wordCounts.Count);
        var counts = new List<long>(wordCounts.Count);
        foreach (var (word, count) in wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var symbols = new List<int>(word.Length);
            foreach (var rune in word.EnumerateRunes())
            {
                if (ids.TryGetValue(rune.ToString(), out var id))
                {
                    symbols.Add(id);
                }
            }

            if (symbols.Count > 1)
            {
                words.Add(symbols.ToArray());
                counts.Add(count);
            }
        }

        var pairCounts = new Dictionary<long, long>(PairKey.Comparer);
        var where = new Dictionary<long, HashSet<int>>(PairKey.Comparer);
        for (var w = 0; w < words.Count; w++)
        {
            AddPairs(words[w], counts[w], w, pairCounts, where);
        }

        var queue = new PriorityQueue<long, (long NegCount, long Key)>();
        foreach (var (key, count) in pairCounts)
        {
            queue.Enqueue(key, (-count, key));
        }

        var merges = new List<(string, string)>();
        while (tokens.Count < targetTokens && queue.TryDequeue(out var pair, out var priority))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var current = pairCounts.GetValueOrDefault(pair);
            if (current <= 0)
            {
                continue;
            }

            if (current != -priority.NegCount)
            {
                queue.Enqueue(pair, (-current, pair));
                continue;
            }

            var (left, right) = ((int)(pair >> 32), (int)(uint)pair);
            var text = tokens[left] + tokens[right];
            if (!ids.TryGetValue(text, out var merged))
            {
                merged = tokens.Count;
                tokens.Add(text);
                ids[text] = merged;
            }

            merges.Add((tokens[left], tokens[right]));
            var changedPairs = new HashSet<long>(PairKey.Comparer);
            foreach (var w in where[pair].ToArray())
            {
                var before = words[w];
                var after = Replace(before, left, right, merged);
                if (after.Length == before.Length)
                {
                    continue;
                }

                RemovePairs(before, counts[w], pairCounts);
                AddPairs(after, counts[w], w, pairCounts, where);
                words[w] = after;
                for (var i = 0; i + 1 < after.Length; i++)
                {
                    if (after[i] == merged || after[i + 1] == merged)
                    {
                        changedPairs.Add(PairKey.Of(after[i], after[i + 1]));
                    }
                }
            }

            foreach (var key in changedPairs)
            {
                if (pairCounts.GetValueOrDefault(key) > 0)
                {
                    queue.Enqueue(key, (-pairCounts[key], key));
                }
            }
        }

        return new BpeTrainingResult(tokens, merges, tokens.Count >= targetTokens);
    }

    private static int[] Replace(int[] symbols, int left, int right, int merged)
    {
        var output = new List<int>(symbols.Length);
        for (var i = 0; i < symbols.Length; i++)
        {
            if (i + 1 < symbols.Length && symbols[i] == left && symbols[i + 1] == right)
            {
                output.Add(merged);
                i++;
            }
            else
            {
                output.Add(symbols[i]);
            }
        }

        return output.ToArray();
    }

    private static void AddPairs(int[] symbols, long count, int word, Dictionary<long, long> pairCounts, Dictionary<long, HashSet<int>> where)
    {
        for (var i = 0; i + 1 < symbols.Length; i++)
        {
            var key = PairKey.Of(symbols[i], symbols[i + 1]);
            pairCounts[key] = pairCounts.GetValueOrDefault(key) + count;
            if (!where.TryGetValue(key, out var set))
            {
                where[key] = set = [];
            }

            set.Add(word);
        }
    }

    private static void RemovePairs(int[] symbols, long count, Dictionary<long, long> pairCounts)
    {
        for (var i = 0; i + 1 < symbols.Length; i++)
        {
            var key = PairKey.Of(symbols[i], symbols[i + 1]);
            pairCounts[key] -= count;
        }
    }
}
