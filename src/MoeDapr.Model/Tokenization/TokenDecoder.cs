using System.Text;
using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tokenization;

/// <summary>
/// The <c>decoder</c> of a tokenizer.json, reduced to what it does to bytes: each token becomes a byte
/// sequence (byte-level alphabet → bytes; <c>&lt;0xNN&gt;</c> → one byte; otherwise the token text after
/// Replace/Metaspace rewrites), and up to <see cref="StripLeadingSpaces"/> spaces are dropped at the start of the text.
/// Working on bytes lets UTF-8 characters split over several tokens decode correctly, also when streaming.
/// </summary>
public sealed class TokenDecoder
{
    private readonly List<(string From, string To)> _replacements = [];

    private TokenDecoder()
    {
    }

    public bool ByteLevel { get; private set; }

    public bool ByteFallback { get; private set; }

    /// <summary>Spaces removed at the start of decoded text (SentencePiece's prefix space).</summary>
    public int StripLeadingSpaces { get; private set; }

    /// <summary>Supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace and Sequence; null decodes token text as is.</summary>
    public static TokenDecoder FromJson(JsonNode? node, string source)
    {
        var decoder = new TokenDecoder();
        decoder.Add(node, source);
        return decoder;
    }

    private void Add(JsonNode? node, string source)
    {
        if (node is null)
        {
            return;
        }

        var type = TokenizerJson.TypeOf(node, "decoder", source);
        switch (type)
        {
            case "Sequence":
                foreach (var child in TokenizerJson.Array(node, "decoders", source))
                {
                    Add(child, source);
                }

                break;
            case "ByteLevel":
                ByteLevel = true;
                break;
            case "Replace":
                var (pattern, isRegex) = TokenizerJson.Pattern(node, source);
                if (isRegex)
                {
                    throw new ModelFormatException($"{source}: a Replace decoder with a regex pattern is not supported");
                }

                _replacements.Add((pattern, TokenizerJson.RequiredString(node, "content", source)));
                break;
            case "ByteFallback":
                ByteFallback = true;
                break;
            case "Fuse":
                break;
            case "Strip":
                var content = TokenizerJson.RequiredString(node, "content", source);
                var stop = TokenizerJson.Int(node, "stop", source) ?? 0;
                if (content != " " || stop != 0)
                {
                    throw new ModelFormatException($"{source}: only a Strip decoder removing leading spaces is supported");
                }

                StripLeadingSpaces = TokenizerJson.Int(node, "start", source) ?? 0;
                break;
            case "Metaspace":
                var replacement = TokenizerJson.RequiredString(node, "replacement", source);
                _replacements.Add((replacement, " "));
                var scheme = TokenizerJson.String(node, "prepend_scheme", source)
                    ?? (TokenizerJson.Bool(node, "add_prefix_space", source) == false ? "never" : "always");
                StripLeadingSpaces = scheme == "never" ? 0 : 1;
                break;
            default:
                throw new ModelFormatException(
                    $"{source}: decoder type \"{type}\" is not supported (supported: Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace)");
        }
    }

    /// <summary>Appends the bytes of <paramref name="token"/>; added tokens (<paramref name="isAdded"/>) are taken as literal text.</summary>
    public void AppendBytes(string token, bool isAdded, List<byte> output)
    {
        if (isAdded)
        {
            output.AddRange(Encoding.UTF8.GetBytes(token));
            return;
        }

        if (ByteFallback && BpeModel.TryParseByteToken(token, out var value))
        {
            output.Add(value);
            return;
        }

        if (ByteLevel)
        {
            foreach (var c in token)
            {
                if (ByteLevelAlphabet.TryGetByte(c, out var b))
                {
                    output.Add(b);
                }
                else
                {
                    output.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
                }
            }

            return;
        }

        foreach (var (from, to) in _replacements)
        {
            token = token.Replace(from, to, StringComparison.Ordinal);
        }

        output.AddRange(Encoding.UTF8.GetBytes(token));
    }
}
