using System.Text.Json.Nodes;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Model.Tests;

/// <summary>Known encodings of two small hand-written tokenizer.json files, worked out by hand from their merges.</summary>
public sealed class HandWrittenTokenizerTests
{
    /// <summary>
    /// GPT-2 style byte-level BPE: ids 0..255 are the byte characters in byte order (so 'h' is 104 and a space,
    /// written Ġ, is 32), then merged tokens from 256, then &lt;|endoftext|&gt; as an added special token.
    /// </summary>
    private static HuggingFaceTokenizer ByteLevel()
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
        {
            vocab[ByteLevelAlphabet.ToChar((byte)b).ToString()] = b;
        }

        string[] merges = ["h e", "l l", "ll o", "Ġ w", "o r", "Ġw or", "l d", "he llo"];
        var next = 256;
        foreach (var merge in merges)
        {
            vocab[merge.Replace(" ", "", StringComparison.Ordinal)] = next++;
        }

        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 264, ["content"] = "<|endoftext|>", ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["post_processor"] = new JsonObject { ["type"] = "ByteLevel" },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)m).ToArray()),
            },
        };
        return HuggingFaceTokenizer.Parse(json);
    }

    // Merged ids: he=256, ll=257, llo=258, Ġw=259, or=260, Ġwor=261, ld=262, hello=263.
    [Theory]
    [InlineData("hello", new[] { 263 })] // h e l l o → he l l o → he ll o → he llo → hello
    [InlineData(" world", new[] { 261, 262 })] // Ġ w o r l d → Ġw o r l d → Ġw or l d → Ġwor l d → Ġwor ld
    [InlineData("world", new[] { 119, 260, 262 })] // no Ġ, so w stays alone: w or ld
    [InlineData("hello world", new[] { 263, 261, 262 })]
    [InlineData("  world", new[] { 32, 261, 262 })] // \s+(?!\S) takes the first space alone; the second joins " world"
    [InlineData("hi\n", new[] { 104, 105, 10 })] // the newline byte 0x0A is written Ċ and has id 10
    [InlineData("é", new[] { 0xC3, 0xA9 })] // two UTF-8 bytes, each its own byte token
    [InlineData("hello<|endoftext|> world", new[] { 263, 264, 261, 262 })]
    [InlineData("hell", new[] { 256, 257 })] // he ll: no merge makes "hell"
    [InlineData("lll", new[] { 257, 108 })] // two equal-rank l l pairs: the leftmost merges first
    [InlineData("lllo", new[] { 257, 108, 111 })] // leftmost l l first gives ll l o, where nothing merges; rightmost first would give l llo
    public void Encode_ByteLevel_GivesIdsDerivedFromMerges(string text, int[] expected)
    {
        var tokenizer = ByteLevel();

        var ids = tokenizer.Encode(text);

        Assert.Equal(expected, ids);
        Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Decode_ByteLevelSkippingSpecials_DropsEndOfText()
    {
        var tokenizer = ByteLevel();

        Assert.Equal("hello world", tokenizer.Decode([263, 264, 261, 262]));
        Assert.Null(tokenizer.BosTokenId);
        Assert.Equal(265, tokenizer.VocabSize);
    }

    /// <summary>
    /// Llama-style: &lt;unk&gt;=0, &lt;s&gt;=1, &lt;/s&gt;=2, &lt;0x00&gt;..&lt;0xFF&gt;=3..258, ▁=259, then h e l o w r d = 260..266,
    /// merged tokens from 267, with Prepend/Replace normalizer, byte fallback and a BOS template.
    /// </summary>
    private static HuggingFaceTokenizer SentencePiece(bool metaspace = false)
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (var b = 0; b < 256; b++)
        {
            vocab[$"<0x{b:X2}>"] = 3 + b;
        }

        var next = 259;
        foreach (var piece in new[] { "▁", "h", "e", "l", "o", "w", "r", "d" })
        {
            vocab[piece] = next++;
        }

        string[] merges = ["▁ h", "l l", "▁h e", "▁he ll", "▁hell o", "▁ w", "o r", "▁w or", "l d"];
        foreach (var merge in merges)
        {
            vocab[merge.Replace(" ", "", StringComparison.Ordinal)] = next++;
        }

        var json = JsonNode.Parse("""
            {
              "added_tokens": [
                {"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true}
              ],
              "normalizer": {"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},
              "pre_tokenizer": null,
              "post_processor": {"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
                                 "special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}},
              "decoder": {"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
              "model": {"type":"BPE","unk_token":"<unk>","fuse_unk":true,"byte_fallback":true}
            }
            """)!.AsObject();
        if (metaspace)
        {
            // The newer, non-legacy layout: a Metaspace pre-tokenizer that adds ▁ only at the very start of the text.
            json["normalizer"] = null;
            json["pre_tokenizer"] = JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""");
            json["decoder"] = JsonNode.Parse("""{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false}""");
        }

        json["model"]!["vocab"] = vocab;
        // Newer files write merges as pairs; both forms must load.
        json["model"]!["merges"] = new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m.Split(' ')[0], m.Split(' ')[1])).ToArray());
        return HuggingFaceTokenizer.Parse(json);
    }

    // Merged ids: ▁h=267, ll=268, ▁he=269, ▁hell=270, ▁hello=271, ▁w=272, or=273, ▁wor=274, ld=275.
    [Theory]
    [InlineData("hello world", new[] { 1, 271, 274, 275 })] // ▁hello▁world: ▁h, ll, ▁he, ▁hell, ▁hello; ▁w, or, ▁wor, ld
    [InlineData("hé", new[] { 1, 267, 198, 172 })] // é is not a piece: bytes C3 A9 → <0xC3>=198, <0xA9>=172
    [InlineData("x", new[] { 1, 259, 123 })] // 'x' (0x78) falls back to <0x78>=123; ▁ stays alone
    [InlineData("<s>hello", new[] { 1, 1, 271 })] // the added <s> is matched in the text; the rest gets its own ▁
    [InlineData("hello  world", new[] { 1, 271, 259, 274, 275 })] // two spaces: ▁ then ▁world
    [InlineData("world hello", new[] { 1, 274, 275, 271 })]
    public void Encode_SentencePiece_GivesIdsDerivedFromMerges(string text, int[] expected)
    {
        var tokenizer = SentencePiece();

        var ids = tokenizer.Encode(text);

        Assert.Equal(expected, ids);
    }

    [Theory]
    [InlineData(new[] { 1, 271, 274, 275 }, "hello world")]
    [InlineData(new[] { 1, 267, 198, 172 }, "hé")]
    [InlineData(new[] { 271, 259, 274, 275, 2 }, "hello  world")]
    [InlineData(new[] { 198, 172 }, "é")]
    [InlineData(new[] { 267, 198 }, "h\uFFFD")] // a lone lead byte decodes as U+FFFD
    public void Decode_SentencePiece_StripsPrefixSpaceAndJoinsBytes(int[] ids, string expected)
    {
        Assert.Equal(expected, SentencePiece().Decode(ids));
    }

    [Theory]
    [InlineData("hello world", new[] { 1, 271, 274, 275 })]
    [InlineData("<s>hello", new[] { 1, 1, 260, 261, 268, 263 })] // after <s> the text does not start the input: no ▁, so h e ll o
    public void Encode_MetaspacePrependFirst_AddsPrefixOnlyAtTextStart(string text, int[] expected)
    {
        var tokenizer = SentencePiece(metaspace: true);

        var ids = tokenizer.Encode(text);

        Assert.Equal(expected, ids);
        Assert.Equal(text.Replace("<s>", "", StringComparison.Ordinal), tokenizer.Decode(ids));
    }

    [Fact]
    public void Encode_SentencePieceWithoutSpecialTokens_HasNoBos()
    {
        var tokenizer = SentencePiece();

        Assert.Equal(1, tokenizer.BosTokenId);
        Assert.Equal([271], tokenizer.Encode("hello", addSpecialTokens: false));
        Assert.Equal("<s> hello", tokenizer.Decode([1, 271], skipSpecialTokens: false));
    }

    [Fact]
    public void Parse_MergeOfUnknownToken_NamesTheMerge()
    {
        var json = JsonNode.Parse("""{"model":{"type":"BPE","vocab":{"a":0,"b":1},"merges":["a c"]}}""")!.AsObject();

        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceTokenizer.Parse(json, "t.json"));

        Assert.Contains("t.json: merge 0 (\"a\" \"c\") uses a token missing from the vocabulary", error.Message);
    }

    [Fact]
    public void Parse_UnigramModel_IsRejectedByName()
    {
        var json = JsonNode.Parse("""{"model":{"type":"Unigram","vocab":[]}}""")!.AsObject();

        var error = Assert.Throws<ModelFormatException>(() => HuggingFaceTokenizer.Parse(json, "t.json"));

        Assert.Contains("model type \"Unigram\" is not supported", error.Message);
    }
}
