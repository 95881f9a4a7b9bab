using MoeDapr.Model.Tokenization;

namespace MoeDapr.Model.Tests;

/// <summary>Shared generated tokenizers (training takes a moment, so each is built once per test run).</summary>
public sealed class GeneratedTokenizerFixture
{
    private readonly Dictionary<(ModelFamily, ModelPreset), HuggingFaceTokenizer> _tokenizers = [];
    private readonly Lock _lock = new();

    public HuggingFaceTokenizer Get(ModelFamily family, ModelPreset preset = ModelPreset.Tiny)
    {
        lock (_lock)
        {
            if (!_tokenizers.TryGetValue((family, preset), out var tokenizer))
            {
                var files = GeneratedTokenizer.Create(ModelPresets.Create(family, preset));
                // Through text, exactly as a loader reads the file.
                tokenizer = HuggingFaceTokenizer.Parse(System.Text.Json.Nodes.JsonNode.Parse(files.TokenizerJson.ToJsonString())!.AsObject());
                _tokenizers[(family, preset)] = tokenizer;
            }

            return tokenizer;
        }
    }
}

public sealed class GeneratedTokenizerTests(GeneratedTokenizerFixture fixture) : IClassFixture<GeneratedTokenizerFixture>
{
    public static TheoryData<ModelFamily, string> RoundTripTexts()
    {
        string[] texts =
        [
            "Hello, world! The keeper climbed the stairs at 09:30.",
            "",
            "a",
            "   leading and trailing spaces   ",
            "tabs\tand\nnew\r\nlines\n\n\nand    runs     of spaces",
            "café naïve résumé Zürich — “quoted” ‘text’",
            "日本語のテキストと中文文本",
            "Здравствуй, мир! Γειά σου κόσμε",
            "emoji 😀🚀👩‍👩‍👧 and flags 🇳🇱 and skin tones 👍🏽",
            "code: if (x < 10) { y[i] = x ^ 2; } // done",
            "\u0000 control \u0007 chars \u001F",
            "numbers 3.14159 1,250,000 2024-05-14 +1 555 0100",
        ];
        var data = new TheoryData<ModelFamily, string>();
        foreach (var family in new[] { ModelFamily.Mixtral, ModelFamily.Qwen3Moe })
        {
            foreach (var text in texts)
            {
                data.Add(family, text);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripTexts))]
    public void EncodeThenDecode_AnyText_RoundTrips(ModelFamily family, string text)
    {
        var tokenizer = fixture.Get(family);

        var ids = tokenizer.Encode(text, addSpecialTokens: false);

        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
        Assert.Equal(text, tokenizer.Decode(ids));
    }

    [Theory]
    [InlineData(ModelFamily.Mixtral, ModelPreset.Tiny)]
    [InlineData(ModelFamily.Qwen2Moe, ModelPreset.Tiny)]
    [InlineData(ModelFamily.Mixtral, ModelPreset.Demo)]
    [InlineData(ModelFamily.Qwen3Moe, ModelPreset.Demo)]
    public void Create_Preset_HasExactlyTheConfigVocabularySize(ModelFamily family, ModelPreset preset)
    {
        var tokenizer = fixture.Get(family, preset);

        Assert.Equal(ModelPresets.Create(family, preset).VocabSize, tokenizer.VocabSize);
        for (var id = 0; id < tokenizer.VocabSize; id++)
        {
            Assert.NotNull(tokenizer.IdToToken(id));
        }
    }

    [Fact]
    public void Encode_DemoTokenizerOnEnglish_CompressesWellBeyondBytes()
    {
        var tokenizer = fixture.Get(ModelFamily.Qwen3Moe, ModelPreset.Demo);
        const string text = "The weather today is calm and clear, and the children rowed across the harbour to look at the seals.";

        var ids = tokenizer.Encode(text);

        // A byte tokenizer needs one id per character; a trained 8192-token vocabulary needs a handful per sentence.
        Assert.True(ids.Count < text.Length / 3, $"{ids.Count} tokens for {text.Length} characters");
    }

    [Fact]
    public void Encode_QwenSpecialTokens_MapToTheirIdsAndAreSkippedWhenDecoding()
    {
        var tokenizer = fixture.Get(ModelFamily.Qwen2Moe);

        var ids = tokenizer.Encode("<|im_start|>user\nhi<|im_end|>\n<|endoftext|>");

        Assert.Equal(510, ids[0]);
        Assert.Equal(511, ids[^3]);
        Assert.Equal(509, ids[^1]);
        Assert.Equal("user\nhi\n", tokenizer.Decode(ids));
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|endoftext|>", tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.Null(tokenizer.BosTokenId);
    }

    [Fact]
    public void Encode_MixtralWithSpecialTokens_StartsWithBosOnce()
    {
        var tokenizer = fixture.Get(ModelFamily.Mixtral);

        var ids = tokenizer.Encode("hello</s>");

        Assert.Equal(1, ids[0]);
        Assert.Equal(2, ids[^1]);
        Assert.DoesNotContain(1, ids.Skip(1));
        Assert.Equal("hello", tokenizer.Decode(ids));
    }

    [Theory]
    [InlineData(ModelFamily.Mixtral)]
    [InlineData(ModelFamily.Qwen2Moe)]
    public void StreamingDecoder_TokenByToken_EmitsOnlyCompleteCharactersAndEqualsDecode(ModelFamily family)
    {
        var tokenizer = fixture.Get(family);
        const string text = "Emoji 😀 and 日本 arrive whole, as does é.";
        var ids = tokenizer.Encode(text, addSpecialTokens: false);
        var streaming = tokenizer.CreateStreamingDecoder(atTextStart: true);

        var pieces = ids.Select(streaming.Push).ToList();
        pieces.Add(streaming.Flush());

        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, piece => Assert.DoesNotContain('\uFFFD', piece));
        Assert.All(pieces, piece => Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), $"piece ends inside a surrogate pair: {piece}"));
        // The emoji takes several byte tokens: some pushes must have returned nothing while it was incomplete.
        Assert.Contains(pieces, piece => piece.Length == 0);
    }

    [Theory]
    [InlineData(ModelFamily.Mixtral)]
    [InlineData(ModelFamily.Qwen3Moe)]
    public void StreamingDecoder_ContinuingAPrompt_KeepsTheLeadingSpace(ModelFamily family)
    {
        var tokenizer = fixture.Get(family);
        var ids = tokenizer.Encode("hello world", addSpecialTokens: false);
        var promptLength = Enumerable.Range(1, ids.Count).First(k => tokenizer.Decode(ids.Take(k)) == "hello");

        var continuing = tokenizer.CreateStreamingDecoder();
        var text = continuing.Push(ids.Skip(promptLength)) + continuing.Flush();

        Assert.Equal(" world", text);
    }

    [Fact]
    public void StreamingDecoder_StreamEndingMidCharacter_FlushesReplacementCharacter()
    {
        var tokenizer = fixture.Get(ModelFamily.Qwen3Moe);
        var ids = tokenizer.Encode("😀", addSpecialTokens: false);
        Assert.True(ids.Count > 1);

        var streaming = tokenizer.CreateStreamingDecoder();
        var partial = streaming.Push(ids.Take(ids.Count - 1));

        Assert.Equal("", partial);
        Assert.True(streaming.PendingBytes > 0);
        Assert.Equal("\uFFFD", streaming.Flush());
        Assert.Equal(tokenizer.Decode(ids.Take(ids.Count - 1)), streaming.Text);
    }

    [Theory]
    [InlineData(ModelFamily.Mixtral)]
    [InlineData(ModelFamily.Qwen3Moe)]
    public void Encode_FromManyThreadsAtOnce_GivesTheSameIdsAsOneThread(ModelFamily family)
    {
        var tokenizer = fixture.Get(family);
        var texts = TrainingCorpus.English.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var expected = texts.Select(t => tokenizer.Encode(t).ToArray()).ToArray();

        var results = new int[texts.Length * 4][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => results[i] = tokenizer.Encode(texts[i % texts.Length]).ToArray());

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(expected[i % texts.Length], results[i]);
        }
    }

    [Fact]
    public void Decode_RandomIdSequences_EqualsStreamingDecode()
    {
        var tokenizer = fixture.Get(ModelFamily.Mixtral);
        var random = new Random(5);
        for (var trial = 0; trial < 200; trial++)
        {
            var ids = Enumerable.Range(0, random.Next(1, 12)).Select(_ => random.Next(tokenizer.VocabSize)).ToArray();
            var streaming = tokenizer.CreateStreamingDecoder(atTextStart: true);
            foreach (var id in ids)
            {
                streaming.Push(id);
            }

            streaming.Flush();
            Assert.Equal(tokenizer.Decode(ids), streaming.Text);
        }
    }
}
