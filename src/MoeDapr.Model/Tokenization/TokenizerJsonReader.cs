using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tokenization;

/// <summary>The parts of a <c>tokenizer.json</c> that <see cref="HuggingFaceTokenizer"/> reads itself: the BPE model, added tokens, post-processor.</summary>
internal static class TokenizerJsonReader
{
    public static BpeModel ParseModel(JsonNode? node, string source)
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

    public static List<AddedToken> ParseAddedTokens(JsonNode? node, string source)
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
    public static (int[] Prefix, int[] Suffix) ParsePostProcessor(JsonNode? node, string source)
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
