using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tokenization;

/// <summary>A token of <c>added_tokens</c>: matched in the raw text before BPE (special ones are dropped when decoding skips specials).</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool LStrip = false, bool RStrip = false, bool SingleWord = false);

/// <summary>
/// A BPE tokenizer read from a Hugging Face <c>tokenizer.json</c>: byte-level BPE (GPT-2, Qwen) and
/// SentencePiece-style BPE with byte fallback (Llama, Mixtral). Thread-safe.
/// </summary>
public sealed class HuggingFaceTokenizer : ITextTokenizer
{
    public const string FileName = "tokenizer.json";

    private readonly string?[] _idToToken;
    private readonly bool[] _isAdded;
    private readonly bool[] _isSpecial;
    private readonly Dictionary<char, AddedToken[]> _addedByFirstChar;
    private readonly int[] _prefix;
    private readonly int[] _suffix;

    private HuggingFaceTokenizer(BpeModel model, TextNormalizer normalizer, PreTokenizer preTokenizer, TokenDecoder decoder,
        IReadOnlyList<AddedToken> addedTokens, int[] prefix, int[] suffix, IReadOnlyList<int> eosTokenIds)
    {
        Model = model;
        Normalizer = normalizer;
        PreTokenizer = preTokenizer;
        Decoder = decoder;
        AddedTokens = addedTokens;
        _prefix = prefix;
        _suffix = suffix;
        EosTokenIds = eosTokenIds;

        var size = Math.Max(model.Vocab.Count == 0 ? 0 : model.Vocab.Values.Max() + 1, addedTokens.Count == 0 ? 0 : addedTokens.Max(t => t.Id) + 1);
        _idToToken = new string?[size];
        _isAdded = new bool[size];
        _isSpecial = new bool[size];
        foreach (var (token, id) in model.Vocab)
        {
            _idToToken[id] ??= token;
        }

        foreach (var added in addedTokens)
        {
            _idToToken[added.Id] = added.Content;
            _isAdded[added.Id] = true;
            _isSpecial[added.Id] = added.Special;
        }

        _addedByFirstChar = addedTokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    public BpeModel Model { get; }

    public TextNormalizer Normalizer { get; }

    public PreTokenizer PreTokenizer { get; }

    public TokenDecoder Decoder { get; }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>One more than the largest id of the vocabulary and the added tokens.</summary>
    public int VocabSize => _idToToken.Length;

    /// <summary>The first token the post-processor puts before a sequence (Llama/Mixtral <c>&lt;s&gt;</c>); null when none.</summary>
    public int? BosTokenId => _prefix.Length > 0 ? _prefix[0] : null;

    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>Ids the post-processor adds before and after a sequence when special tokens are requested.</summary>
    public IReadOnlyList<int> PrefixTokenIds => _prefix;

    public IReadOnlyList<int> SuffixTokenIds => _suffix;

    /// <summary>Reads <paramref name="path"/> (a tokenizer.json file).</summary>
    public static HuggingFaceTokenizer Load(string path, IReadOnlyList<int>? eosTokenIds = null)
    {
        if (!File.Exists(path))
        {
            throw new ModelFormatException($"{path}: not found");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: invalid JSON: {e.Message}", e);
        }

        return node is JsonObject obj ? Parse(obj, path, eosTokenIds) : throw new ModelFormatException($"{path}: expected a JSON object");
    }

    /// <summary>Builds a tokenizer from a tokenizer.json object; <paramref name="source"/> names it in errors.</summary>
    public static HuggingFaceTokenizer Parse(JsonObject json, string source = FileName, IReadOnlyList<int>? eosTokenIds = null)
    {
        var model = ParseModel(json["model"], source);
        var added = ParseAddedTokens(json["added_tokens"], source);
        var normalizer = TextNormalizer.FromJson(json["normalizer"], source);
        var preTokenizer = PreTokenizer.FromJson(json["pre_tokenizer"], source);
        var decoder = TokenDecoder.FromJson(json["decoder"], source);
        var (prefix, suffix) = ParsePostProcessor(json["post_processor"], source);
        return new HuggingFaceTokenizer(model, normalizer, preTokenizer, decoder, added, prefix, suffix, eosTokenIds ?? []);
    }

    /// <summary>The same tokenizer with other end-of-sequence ids (tokenizer.json does not name them; the generation config does).</summary>
    public HuggingFaceTokenizer WithEosTokenIds(IReadOnlyList<int> eosTokenIds) =>
        new(Model, Normalizer, PreTokenizer, Decoder, AddedTokens, _prefix, _suffix, eosTokenIds);

    public int? TokenToId(string token)
    {
        foreach (var added in AddedTokens)
        {
            if (added.Content == token)
            {
                return added.Id;
            }
        }

        return Model.Vocab.TryGetValue(token, out var id) ? id : null;
    }

    /// <summary>The token string of <paramref name="id"/> (as stored in the vocabulary); null when no token has it.</summary>
    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    public bool IsSpecial(int id) => id >= 0 && id < _isSpecial.Length && _isSpecial[id];

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_prefix);
        }

        foreach (var (start, length, added) in SplitOnAddedTokens(text))
        {
            if (added is not null)
            {
                ids.Add(added.Id);
                continue;
            }

            var normalized = Normalizer.Normalize(text.Substring(start, length));
            foreach (var word in PreTokenizer.Split(normalized, atTextStart: start == 0))
            {
                Model.Tokenize(word, ids);
            }
        }

        if (addSpecialTokens)
        {
            ids.AddRange(_suffix);
        }

        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            AppendTokenBytes(id, skipSpecialTokens, bytes);
        }

        var text = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
        return StripLeading(text, Decoder.StripLeadingSpaces);
    }

    /// <summary>An incremental decoder for streamed tokens; see <see cref="StreamingDetokenizer"/>.</summary>
    public StreamingDetokenizer CreateStreamingDecoder(bool skipSpecialTokens = true, bool atTextStart = false) =>
        new(this, skipSpecialTokens, atTextStart);

    /// <summary>Appends the bytes token <paramref name="id"/> decodes to; unknown ids and skipped specials add nothing.</summary>
    public void AppendTokenBytes(int id, bool skipSpecialTokens, List<byte> output)
    {
        var token = IdToToken(id);
        if (token is null || (skipSpecialTokens && _isSpecial[id]))
        {
            return;
        }

        Decoder.AppendBytes(token, _isAdded[id], output);
    }

    internal static string StripLeading(string text, int spaces)
    {
        var cut = 0;
        while (cut < spaces && cut < text.Length && text[cut] == ' ')
        {
            cut++;
        }

        return cut == 0 ? text : text[cut..];
    }

    /// <summary>Splits text into plain spans and added-token matches (leftmost, then longest), honouring lstrip/rstrip/single_word.</summary>
    private List<(int Start, int Length, AddedToken? Added)> SplitOnAddedTokens(string text)
    {
        var spans = new List<(int, int, AddedToken?)>();
        if (_addedByFirstChar.Count == 0)
        {
            spans.Add((0, text.Length, null));
            return spans;
        }

        var plainStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            var match = MatchAt(text, i);
            if (match is null)
            {
                i++;
                continue;
            }

            var start = i;
            var end = i + match.Content.Length;
            if (match.LStrip)
            {
                while (start > plainStart && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }
            }

            if (match.RStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }

            if (start > plainStart)
            {
                spans.Add((plainStart, start - plainStart, null));
            }

            spans.Add((start, end - start, match));
            plainStart = end;
            i = end;
        }

        if (plainStart < text.Length)
        {
            spans.Add((plainStart, text.Length - plainStart, null));
        }

        return spans;
    }

    private AddedToken? MatchAt(string text, int i)
    {
        if (!_addedByFirstChar.TryGetValue(text[i], out var candidates))
        {
            return null;
        }

        foreach (var candidate in candidates)
        {
            if (i + candidate.Content.Length > text.Length || string.CompareOrdinal(text, i, candidate.Content, 0, candidate.Content.Length) != 0)
            {
                continue;
            }

            if (candidate.SingleWord)
            {
                var end = i + candidate.Content.Length;
                var boundaryBefore = i == 0 || !char.IsLetterOrDigit(text[i - 1]);
                var boundaryAfter = end == text.Length || !char.IsLetterOrDigit(text[end]);
                if (!boundaryBefore || !boundaryAfter)
                {
                    continue;
                }
            }

            return candidate;
        }

        return null;
    }

    private static BpeModel ParseModel(JsonNode? node, string source)
    {
        if (node is not JsonObject model)
        {
            throw new ModelFormatException($"{source}: missing \"model\"");
        }

        var type = TokenizerJson.String(model, "type", source) ?? (model["merges"] is not null ? "BPE" : "unknown");
        if (type != "BPE")
        {
            throw new ModelFormatException($"{source}: model type \"{type}\" is not supported (MoeDapr reads BPE tokenizers)");
        }

        if (TokenizerJson.String(model, "continuing_subword_prefix", source) is { Length: > 0 }
            || TokenizerJson.String(model, "end_of_word_suffix", source) is { Length: > 0 })
        {
            throw new ModelFormatException($"{source}: BPE with continuing_subword_prefix or end_of_word_suffix is not supported");
        }

        if (model["vocab"] is not JsonObject vocabJson)
        {
            throw new ModelFormatException($"{source}: model.vocab must be an object of token → id");
        }

        var vocab = new Dictionary<string, int>(vocabJson.Count, StringComparer.Ordinal);
        foreach (var (token, value) in vocabJson)
        {
            vocab[token] = JsonFields.TryInt(value, out var id) && id >= 0
                ? id
                : throw new ModelFormatException($"{source}: model.vocab[\"{token}\"] must be a non-negative integer id");
        }

        var merges = new List<(string, string)>();
        if (model["merges"] is JsonArray mergesJson)
        {
            foreach (var merge in mergesJson)
            {
                merges.Add(ParseMerge(merge, merges.Count, source));
            }
        }

        return new BpeModel(vocab, merges, TokenizerJson.String(model, "unk_token", source),
            TokenizerJson.Bool(model, "byte_fallback", source) ?? false,
            TokenizerJson.Bool(model, "fuse_unk", source) ?? false,
            TokenizerJson.Bool(model, "ignore_merges", source) ?? false,
            source);
    }

    /// <summary>A merge is <c>"left right"</c> (one space between) or, in newer files, <c>["left", "right"]</c>.</summary>
    private static (string, string) ParseMerge(JsonNode? merge, int rank, string source)
    {
        switch (merge)
        {
            case JsonValue v when v.TryGetValue<string>(out var text):
                var space = text.IndexOf(' ', 1);
                if (space > 0 && space < text.Length - 1 && text.IndexOf(' ', space + 1) < 0)
                {
                    return (text[..space], text[(space + 1)..]);
                }

                break;
            case JsonArray { Count: 2 } pair when pair[0] is JsonValue l && l.TryGetValue<string>(out var left)
                                               && pair[1] is JsonValue r && r.TryGetValue<string>(out var right):
                return (left, right);
        }

        throw new ModelFormatException($"{source}: merge {rank} must be \"left right\" or [\"left\", \"right\"] (got {merge?.ToJsonString()})");
    }

    private static List<AddedToken> ParseAddedTokens(JsonNode? node, string source)
    {
        var tokens = new List<AddedToken>();
        if (node is null)
        {
            return tokens;
        }

        foreach (var item in node as JsonArray ?? throw new ModelFormatException($"{source}: \"added_tokens\" must be an array"))
        {
            if (item is null)
            {
                continue;
            }

            tokens.Add(new AddedToken(
                TokenizerJson.Int(item, "id", source) ?? throw new ModelFormatException($"{source}: an added token has no \"id\""),
                TokenizerJson.RequiredString(item, "content", source),
                TokenizerJson.Bool(item, "special", source) ?? false,
                TokenizerJson.Bool(item, "lstrip", source) ?? false,
                TokenizerJson.Bool(item, "rstrip", source) ?? false,
                TokenizerJson.Bool(item, "single_word", source) ?? false));
        }

        return tokens;
    }

    /// <summary>The ids TemplateProcessing (or Roberta/Bert processing) puts around a single sequence.</summary>
    private static (int[] Prefix, int[] Suffix) ParsePostProcessor(JsonNode? node, string source)
    {
        if (node is null)
        {
            return ([], []);
        }

        var type = TokenizerJson.TypeOf(node, "post_processor", source);
        switch (type)
        {
            case "ByteLevel":
                return ([], []);
            case "Sequence":
                var prefix = new List<int>();
                var suffix = new List<int>();
                foreach (var child in TokenizerJson.Array(node, "processors", source))
                {
                    var (p, s) = ParsePostProcessor(child, source);
                    prefix.AddRange(p);
                    suffix.AddRange(s);
                }

                return (prefix.ToArray(), suffix.ToArray());
            case "TemplateProcessing":
                var before = new List<int>();
                var after = new List<int>();
                var seenSequence = false;
                foreach (var piece in TokenizerJson.Array(node, "single", source))
                {
                    if (piece?["Sequence"] is not null)
                    {
                        seenSequence = true;
                        continue;
                    }

                    var name = piece?["SpecialToken"]?["id"]?.GetValue<string>()
                        ?? throw new ModelFormatException($"{source}: post_processor.single holds an entry that is neither Sequence nor SpecialToken");
                    var ids = node["special_tokens"]?[name]?["ids"] as JsonArray
                        ?? throw new ModelFormatException($"{source}: post_processor.special_tokens has no ids for \"{name}\"");
                    (seenSequence ? after : before).AddRange(ids.Select(id => JsonFields.TryInt(id, out var value)
                        ? value
                        : throw new ModelFormatException($"{source}: post_processor.special_tokens[\"{name}\"].ids must be integers")));
                }

                return (before.ToArray(), after.ToArray());
            case "RobertaProcessing" or "BertProcessing":
                var cls = JsonFields.TryInt(node["cls"]?[1], out var clsId) ? clsId : throw new ModelFormatException($"{source}: post_processor.cls must be [token, id]");
                var sep = JsonFields.TryInt(node["sep"]?[1], out var sepId) ? sepId : throw new ModelFormatException($"{source}: post_processor.sep must be [token, id]");
                return ([cls], [sep]);
            default:
                throw new ModelFormatException(
                    $"{source}: post_processor type \"{type}\" is not supported (supported: TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence)");
        }
    }
}
