using System.Collections.Concurrent;
using System.Globalization;

namespace MoeDapr.Model.Tokenization;

/// <summary>
/// The <c>BPE</c> model of a Hugging Face tokenizer: a vocabulary and ranked merges. A word starts as one
/// symbol per character (or, with byte fallback, per UTF-8 byte of a character missing from the vocabulary,
/// as <c>&lt;0xNN&gt;</c>), then the adjacent pair of lowest merge rank is merged, leftmost first, until no
/// pair has a merge: the same order as the tokenizers library.
/// </summary>
public sealed class BpeModel
{
    /// <summary>Words up to this many characters are cached; longer ones (SentencePiece-style whole segments) are not.</summary>
    private const int MaxCachedWordLength = 64;
    private const int MaxCacheEntries = 100_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<long, (int Rank, int Merged)> _merges;
    private readonly int[] _byteTokens;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public BpeModel(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string? unkToken,
        bool byteFallback, bool fuseUnk, bool ignoreMerges, string source = "tokenizer.json")
    {
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _merges = new Dictionary<long, (int, int)>(merges.Count, PairKey.Comparer);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!_vocab.TryGetValue(left, out var a) || !_vocab.TryGetValue(right, out var b))
            {
                throw new ModelFormatException($"{source}: merge {rank} (\"{left}\" \"{right}\") uses a token missing from the vocabulary");
            }

            if (!_vocab.TryGetValue(left + right, out var merged))
            {
                throw new ModelFormatException($"{source}: merge {rank} (\"{left}\" \"{right}\") makes \"{left + right}\", which is missing from the vocabulary");
            }

            // The first listed merge of a pair wins, as in the tokenizers library.
            _merges.TryAdd(PairKey.Of(a, b), (rank, merged));
        }

        if (unkToken is not null)
        {
            UnkId = _vocab.TryGetValue(unkToken, out var unk)
                ? unk
                : throw new ModelFormatException($"{source}: unk_token \"{unkToken}\" is not in the vocabulary");
        }

        ByteFallback = byteFallback;
        FuseUnk = fuseUnk;
        IgnoreMerges = ignoreMerges;
        _byteTokens = new int[256];
        for (var b = 0; b < 256; b++)
        {
            _byteTokens[b] = _vocab.TryGetValue(ByteTokenName((byte)b), out var id) ? id : -1;
        }
    }

    public IReadOnlyDictionary<string, int> Vocab => _vocab;

    public int MergeCount => _merges.Count;

    public int? UnkId { get; }

    public bool ByteFallback { get; }

    public bool FuseUnk { get; }

    public bool IgnoreMerges { get; }

    /// <summary>The SentencePiece name of a byte token: <c>&lt;0x0A&gt;</c>.</summary>
    public static string ByteTokenName(byte value) => string.Create(CultureInfo.InvariantCulture, $"<0x{value:X2}>");

    /// <summary>Parses a <c>&lt;0xNN&gt;</c> token name.</summary>
    public static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Appends the ids of one pre-tokenized word to <paramref name="output"/>.</summary>
    public void Tokenize(string word, List<int> output)
    {
        if (word.Length == 0)
        {
            return;
        }

        if (IgnoreMerges && _vocab.TryGetValue(word, out var whole))
        {
            output.Add(whole);
            return;
        }

        var cacheable = word.Length <= MaxCachedWordLength;
        if (cacheable && _cache.TryGetValue(word, out var cached))
        {
            output.AddRange(cached);
            return;
        }

        var ids = Merge(InitialSymbols(word));
        if (cacheable)
        {
            if (_cache.Count >= MaxCacheEntries)
            {
                _cache.Clear();
            }

            _cache.TryAdd(word, ids);
        }

        output.AddRange(ids);
    }

    private List<int> InitialSymbols(string word)
    {
        var symbols = new List<int>(word.Length);
        Span<byte> utf8 = stackalloc byte[4];
        var previousWasUnk = false;
        foreach (var rune in word.EnumerateRunes())
        {
            var text = rune.ToString();
            if (_vocab.TryGetValue(text, out var id))
            {
                symbols.Add(id);
                previousWasUnk = false;
                continue;
            }

            if (ByteFallback)
            {
                var length = rune.EncodeToUtf8(utf8);
                var all = true;
                for (var i = 0; i < length; i++)
                {
                    all &= _byteTokens[utf8[i]] >= 0;
                }

                if (all)
                {
                    for (var i = 0; i < length; i++)
                    {
                        symbols.Add(_byteTokens[utf8[i]]);
                    }

                    previousWasUnk = false;
                    continue;
                }
            }

            if (UnkId is { } unk)
            {
                if (!(FuseUnk && previousWasUnk))
                {
                    symbols.Add(unk);
                }

                previousWasUnk = true;
            }
        }

        return symbols;
    }

    /// <summary>Merges adjacent symbols by rank (lowest first, then leftmost) over a linked list with a heap.</summary>
    private int[] Merge(List<int> initial)
    {
        var n = initial.Count;
        if (n < 2)
        {
            return initial.ToArray();
        }

        var ids = initial.ToArray();
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            alive[i] = true;
        }

        // Element: (left position, left id, right id); priority: rank in the high half, position in the low half,
        // so the lowest rank wins and, among equal ranks, the leftmost pair.
        var queue = new PriorityQueue<(int Pos, int Left, int Right), long>(n);
        void Push(int pos)
        {
            var right = next[pos];
            if (right >= 0 && _merges.TryGetValue(PairKey.Of(ids[pos], ids[right]), out var merge))
            {
                queue.Enqueue((pos, ids[pos], ids[right]), ((long)merge.Rank << 32) | (uint)pos);
            }
        }

        for (var i = 0; i < n - 1; i++)
        {
            Push(i);
        }

        while (queue.TryDequeue(out var top, out _))
        {
            var right = next[top.Pos];
            if (!alive[top.Pos] || right < 0 || ids[top.Pos] != top.Left || ids[right] != top.Right)
            {
                continue;
            }

            ids[top.Pos] = _merges[PairKey.Of(top.Left, top.Right)].Merged;
            alive[right] = false;
            next[top.Pos] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = top.Pos;
            }

            if (prev[top.Pos] >= 0)
            {
                Push(prev[top.Pos]);
            }

            Push(top.Pos);
        }

        var result = new List<int>(n);
        for (var i = 0; i >= 0; i = next[i])
        {
            result.Add(ids[i]);
        }

        return result.ToArray();
    }
}
