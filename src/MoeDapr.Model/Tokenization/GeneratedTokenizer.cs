using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tokenization;

/// <summary>
/// Trains the tokenizer of a generated checkpoint on <see cref="TrainingCorpus"/> to exactly the config's
/// vocabulary size: byte-level BPE with Qwen's pre-tokenizer and ChatML special tokens for Qwen families,
/// SentencePiece-style BPE with byte fallback and <c>&lt;unk&gt;</c>/<c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c> for Mixtral.
/// </summary>
public static class GeneratedTokenizer
{
    /// <summary>Qwen2's pre-tokenizer pattern (GPT-2's, with single digits and newline handling).</summary>
    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const string Metaspace = "\u2581";

    private static readonly string[] QwenSpecials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
    private static readonly string[] LlamaSpecials = ["<unk>", "<s>", "</s>"];

    /// <summary>Builds tokenizer.json and tokenizer_config.json for <paramref name="config"/>.</summary>
    public static TokenizerFiles Create(ModelConfig config, CancellationToken cancellationToken = default) =>
        Create(config, new TrainingText(TrainingCorpus.English, Repeats: 4, AlwaysFiller: true), cancellationToken);

    /// <summary>
    /// Builds the tokenizer files for <paramref name="config"/> with merges learned from <paramref name="corpus"/>
    /// (filler sentences are added only when the corpus alone cannot fill the vocabulary).
    /// </summary>
    public static TokenizerFiles Create(ModelConfig config, string corpus, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(corpus);
        return Create(config, new TrainingText(corpus, Repeats: 1, AlwaysFiller: false), cancellationToken);
    }

    private static TokenizerFiles Create(ModelConfig config, TrainingText text, CancellationToken cancellationToken) =>
        config.Family == ModelFamily.Mixtral ? CreateSentencePiece(config, text, cancellationToken) : CreateByteLevel(config, text, cancellationToken);

    private static TokenizerFiles CreateByteLevel(ModelConfig config, TrainingText text, CancellationToken cancellationToken)
    {
        var modelVocab = config.VocabSize - QwenSpecials.Length;
        if (modelVocab < 256)
        {
            throw new ArgumentException($"vocab_size {config.VocabSize} is too small for a byte-level tokenizer (needs at least {256 + QwenSpecials.Length})", nameof(config));
        }

        var preTokenizer = new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = QwenPattern }, ["behavior"] = "Isolated", ["invert"] = false },
                ByteLevelNode()),
        };
        var splitter = PreTokenizer.FromJson(preTokenizer, "generated tokenizer");
        var alphabet = Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.ToChar((byte)b).ToString()).ToArray();
        var result = TrainToSize(t => splitter.Split(t, atTextStart: true), text, alphabet, modelVocab, cancellationToken);

        var added = new JsonArray();
        for (var i = 0; i < QwenSpecials.Length; i++)
        {
            added.Add(AddedTokenNode(modelVocab + i, QwenSpecials[i]));
        }

        var tokenizer = TokenizerJsonNode(
            added,
            new JsonObject { ["type"] = "NFC" },
            preTokenizer,
            ByteLevelNode(),
            ByteLevelNode(),
            ModelNode(result, unkToken: null, byteFallback: false, fuseUnk: false));

        var tokenizerConfig = new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_prefix_space"] = false,
            ["added_tokens_decoder"] = AddedTokensDecoder(added),
            ["additional_special_tokens"] = new JsonArray("<|im_start|>", "<|im_end|>"),
            ["bos_token"] = null,
            ["chat_template"] = ChatTemplates.JinjaForFamily(config.Family),
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = "<|im_end|>",
            ["errors"] = "replace",
            ["model_max_length"] = config.MaxPositionEmbeddings,
            ["pad_token"] = "<|endoftext|>",
            ["split_special_tokens"] = false,
            ["tokenizer_class"] = "Qwen2Tokenizer",
            ["unk_token"] = null,
        };
        return new TokenizerFiles(tokenizer, tokenizerConfig);
    }

    private static TokenizerFiles CreateSentencePiece(ModelConfig config, TrainingText text, CancellationToken cancellationToken)
    {
        var normalizer = new JsonObject
        {
            ["type"] = "Sequence",
            ["normalizers"] = new JsonArray(
                new JsonObject { ["type"] = "Prepend", ["prepend"] = Metaspace },
                new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = Metaspace }),
        };
        var normalize = TextNormalizer.FromJson(normalizer, "generated tokenizer");
        // Training words are split before each ▁, as SentencePiece does, so no merge crosses a word boundary.
        var splitter = PreTokenizer.FromJson(
            new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["String"] = Metaspace }, ["behavior"] = "MergedWithNext", ["invert"] = false },
            "generated tokenizer");

        var fixedTokens = LlamaSpecials.Concat(Enumerable.Range(0, 256).Select(b => BpeModel.ByteTokenName((byte)b))).ToList();
        var characters = CharacterFrequencies(normalize.Normalize(text.Text.Replace('\n', ' ')));
        var alphabet = fixedTokens.Concat(characters).ToArray();
        if (alphabet.Length > config.VocabSize)
        {
            throw new ArgumentException($"vocab_size {config.VocabSize} is too small for a SentencePiece-style tokenizer (needs at least {alphabet.Length})", nameof(config));
        }

        var result = TrainToSize(
            t => t.Split('\n').SelectMany(line => splitter.Split(normalize.Normalize(line), atTextStart: true)),
            text, alphabet, config.VocabSize, cancellationToken);

        var added = new JsonArray();
        for (var i = 0; i < LlamaSpecials.Length; i++)
        {
            added.Add(AddedTokenNode(i, LlamaSpecials[i]));
        }

        var postProcessor = new JsonObject
        {
            ["type"] = "TemplateProcessing",
            ["single"] = new JsonArray(SpecialTokenPiece("<s>", 0), SequencePiece("A", 0)),
            ["pair"] = new JsonArray(SpecialTokenPiece("<s>", 0), SequencePiece("A", 0), SpecialTokenPiece("<s>", 1), SequencePiece("B", 1)),
            ["special_tokens"] = new JsonObject
            {
                ["<s>"] = new JsonObject { ["id"] = "<s>", ["ids"] = new JsonArray(1), ["tokens"] = new JsonArray("<s>") },
            },
        };
        var decoder = new JsonObject
        {
            ["type"] = "Sequence",
            ["decoders"] = new JsonArray(
                new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = Metaspace }, ["content"] = " " },
                new JsonObject { ["type"] = "ByteFallback" },
                new JsonObject { ["type"] = "Fuse" },
                new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
        };
        var tokenizer = TokenizerJsonNode(added, normalizer, null, postProcessor, decoder,
            ModelNode(result, unkToken: "<unk>", byteFallback: true, fuseUnk: true));

        var tokenizerConfig = new JsonObject
        {
            ["add_bos_token"] = true,
            ["add_eos_token"] = false,
            ["added_tokens_decoder"] = AddedTokensDecoder(added),
            ["bos_token"] = "<s>",
            ["chat_template"] = ChatTemplates.JinjaForFamily(config.Family),
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = "</s>",
            ["legacy"] = true,
            ["model_max_length"] = config.MaxPositionEmbeddings,
            ["pad_token"] = null,
            ["sp_model_kwargs"] = new JsonObject(),
            ["spaces_between_special_tokens"] = false,
            ["tokenizer_class"] = "LlamaTokenizer",
            ["unk_token"] = "<unk>",
            ["use_default_system_prompt"] = false,
        };
        return new TokenizerFiles(tokenizer, tokenizerConfig);
    }

    /// <summary>Trains on the text plus as much filler as it takes to reach <paramref name="targetTokens"/> (doubling until it does).</summary>
    private static BpeTrainingResult TrainToSize(Func<string, IEnumerable<string>> split, TrainingText text, IReadOnlyList<string> alphabet, int targetTokens,
        CancellationToken cancellationToken)
    {
        var needed = targetTokens - alphabet.Count;
        var sentences = text.AlwaysFiller ? Math.Max(0, needed) / 2 : 0;
        while (true)
        {
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            void Count(string text)
            {
                foreach (var word in split(text))
                {
                    counts[word] = counts.GetValueOrDefault(word) + 1;
                }
            }

            // The prose counts several times so that real English words are learned before invented ones.
            for (var i = 0; i < text.Repeats; i++)
            {
                Count(text.Text);
            }

            if (sentences > 0)
            {
                Count(TrainingCorpus.Filler(sentences, seed: 20240607));
            }

            var result = BpeTrainer.Train(counts, alphabet, targetTokens, cancellationToken);
            if (result.ReachedTarget)
            {
                return result;
            }

            sentences = Math.Max(64, sentences * 2);
        }
    }

    private sealed record TrainingText(string Text, int Repeats, bool AlwaysFiller);

    private static IEnumerable<string> CharacterFrequencies(string text) =>
        text.EnumerateRunes()
            .GroupBy(r => r.ToString(), StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key);

    private static JsonObject ByteLevelNode() => new()
    {
        ["type"] = "ByteLevel",
        ["add_prefix_space"] = false,
        ["trim_offsets"] = false,
        ["use_regex"] = false,
    };

    private static JsonObject AddedTokenNode(int id, string content) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = true,
    };

    private static JsonObject AddedTokensDecoder(JsonArray added)
    {
        var decoder = new JsonObject();
        foreach (var token in added)
        {
            var copy = token!.DeepClone().AsObject();
            var id = copy["id"]!.GetValue<int>();
            copy.Remove("id");
            decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = copy;
        }

        return decoder;
    }

    private static JsonObject SpecialTokenPiece(string id, int typeId) =>
        new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };

    private static JsonObject SequencePiece(string id, int typeId) =>
        new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };

    private static JsonObject ModelNode(BpeTrainingResult result, string? unkToken, bool byteFallback, bool fuseUnk)
    {
        var vocab = new JsonObject();
        for (var id = 0; id < result.Tokens.Count; id++)
        {
            vocab[result.Tokens[id]] = id;
        }

        return new JsonObject
        {
            ["type"] = "BPE",
            ["dropout"] = null,
            ["unk_token"] = unkToken,
            ["continuing_subword_prefix"] = null,
            ["end_of_word_suffix"] = null,
            ["fuse_unk"] = fuseUnk,
            ["byte_fallback"] = byteFallback,
            ["ignore_merges"] = false,
            ["vocab"] = vocab,
            // "left right" strings: the form every tokenizers version reads (no generated token contains a space).
            ["merges"] = new JsonArray(result.Merges.Select(m => (JsonNode)$"{m.Left} {m.Right}").ToArray()),
        };
    }

    private static JsonObject TokenizerJsonNode(JsonArray added, JsonNode? normalizer, JsonNode? preTokenizer, JsonNode postProcessor, JsonNode decoder, JsonObject model) => new()
    {
        ["version"] = "1.0",
        ["truncation"] = null,
        ["padding"] = null,
        ["added_tokens"] = added,
        ["normalizer"] = normalizer,
        ["pre_tokenizer"] = preTokenizer,
        ["post_processor"] = postProcessor,
        ["decoder"] = decoder,
        ["model"] = model,
    };
}
