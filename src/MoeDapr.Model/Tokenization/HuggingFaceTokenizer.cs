using System.Text;
using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tokenization;

/// <summary>
/// A BPE tokenizer read from a Hugging Face <c>tokenizer.json</c>: byte-level BPE (GPT-2, Qwen) and
/// SentencePiece-style BPE with byte fallback (Llama, Mixtral). Thread-safe.
/// </summary>
public sealed partial class HuggingFaceTokenizer : ITextTokenizer
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

        return Parse(JsonFields.ReadObject(path), path, eosTokenIds);
    }

    /// <summary>Builds a tokenizer from a tokenizer.json object; <paramref name="source"/> names it in errors.</summary>
    public static HuggingFaceTokenizer Parse(JsonObject json, string source = FileName, IReadOnlyList<int>? eosTokenIds = null)
    {
        var model = TokenizerJsonReader.ParseModel(json["model"], source);
        var added = TokenizerJsonReader.ParseAddedTokens(json["added_tokens"], source);
        var normalizer = TextNormalizer.FromJson(json["normalizer"], source);
        var preTokenizer = PreTokenizer.FromJson(json["pre_tokenizer"], source);
        var decoder = TokenDecoder.FromJson(json["decoder"], source);
        var (prefix, suffix) = TokenizerJsonReader.ParsePostProcessor(json["post_processor"], source);
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

}
