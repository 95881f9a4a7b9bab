using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MoeDapr.Model.Tokenization;

/// <summary>
/// The <c>pre_tokenizer</c> of a tokenizer.json: splits a normalized segment into the words BPE runs on
/// (and, for ByteLevel, maps each word's UTF-8 bytes to <see cref="ByteLevelAlphabet"/> characters).
/// </summary>
public sealed class PreTokenizer
{
    /// <summary>GPT-2's word pattern, used by ByteLevel when <c>use_regex</c> is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private delegate void Step(List<string> pieces, bool atTextStart);

    private readonly List<Step> _steps;

    private PreTokenizer(List<Step> steps, bool byteLevel)
    {
        _steps = steps;
        IsByteLevel = byteLevel;
    }

    /// <summary>Whether words come out in the byte-level alphabet.</summary>
    public bool IsByteLevel { get; }

    /// <summary>Splits <paramref name="text"/>; <paramref name="atTextStart"/> is true for the segment that begins the input.</summary>
    public List<string> Split(string text, bool atTextStart)
    {
        var pieces = new List<string> { text };
        foreach (var step in _steps)
        {
            step(pieces, atTextStart);
        }

        pieces.RemoveAll(p => p.Length == 0);
        return pieces;
    }

    /// <summary>Supported: ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit and Sequence; null means none.</summary>
    public static PreTokenizer FromJson(JsonNode? node, string source)
    {
        var steps = new List<Step>();
        var byteLevel = false;
        Add(node, steps, ref byteLevel, source);
        return new PreTokenizer(steps, byteLevel);
    }

    private static void Add(JsonNode? node, List<Step> steps, ref bool byteLevel, string source)
    {
        if (node is null)
        {
            return;
        }

        var type = TokenizerJson.TypeOf(node, "pre_tokenizer", source);
        switch (type)
        {
            case "Sequence":
                foreach (var child in TokenizerJson.Array(node, "pretokenizers", source))
                {
                    Add(child, steps, ref byteLevel, source);
                }

                break;
            case "ByteLevel":
                byteLevel = true;
                var addPrefixSpace = TokenizerJson.Bool(node, "add_prefix_space", source) ?? true;
                var useRegex = TokenizerJson.Bool(node, "use_regex", source) ?? true;
                var gpt2 = useRegex ? TokenizerJson.CompileRegex(Gpt2Pattern, source) : null;
                steps.Add((pieces, _) =>
                {
                    var output = new List<string>(pieces.Count);
                    foreach (var piece in pieces)
                    {
                        var text = addPrefixSpace && !piece.StartsWith(' ') ? " " + piece : piece;
                        if (gpt2 is null)
                        {
                            output.Add(text);
                        }
                        else
                        {
                            SplitByRegex(text, gpt2, SplitBehavior.Isolated, invert: false, output);
                        }
                    }

                    pieces.Clear();
                    pieces.AddRange(output.Select(p => ByteLevelAlphabet.Encode(Encoding.UTF8.GetBytes(p))));
                });
                break;
            case "Split":
                var (pattern, isRegex) = TokenizerJson.Pattern(node, source);
                var regex = TokenizerJson.CompileRegex(isRegex ? pattern : Regex.Escape(pattern), source);
                var behavior = ParseBehavior(TokenizerJson.RequiredString(node, "behavior", source), source);
                var invert = TokenizerJson.Bool(node, "invert", source) ?? false;
                steps.Add((pieces, _) => Apply(pieces, piece => SplitByRegex(piece, regex, behavior, invert)));
                break;
            case "Metaspace":
                var replacement = TokenizerJson.RequiredString(node, "replacement", source);
                var scheme = TokenizerJson.String(node, "prepend_scheme", source)
                    ?? (TokenizerJson.Bool(node, "add_prefix_space", source) == false ? "never" : "always");
                var split = TokenizerJson.Bool(node, "split", source) ?? true;
                var splitter = TokenizerJson.CompileRegex(Regex.Escape(replacement), source);
                steps.Add((pieces, atTextStart) =>
                {
                    for (var i = 0; i < pieces.Count; i++)
                    {
                        var text = pieces[i].Replace(" ", replacement, StringComparison.Ordinal);
                        var prepend = scheme == "always" || (scheme == "first" && atTextStart && i == 0);
                        pieces[i] = prepend && !text.StartsWith(replacement, StringComparison.Ordinal) ? replacement + text : text;
                    }

                    if (split)
                    {
                        Apply(pieces, piece => SplitByRegex(piece, splitter, SplitBehavior.MergedWithNext, invert: false));
                    }
                });
                break;
            case "Digits":
                var individual = TokenizerJson.Bool(node, "individual_digits", source) ?? false;
                var digits = TokenizerJson.CompileRegex(individual ? @"\p{N}" : @"\p{N}+", source);
                steps.Add((pieces, _) => Apply(pieces, piece => SplitByRegex(piece, digits, SplitBehavior.Isolated, invert: false)));
                break;
            case "Whitespace":
                var words = TokenizerJson.CompileRegex(@"\w+|[^\w\s]+", source);
                steps.Add((pieces, _) => Apply(pieces, piece => SplitByRegex(piece, words, SplitBehavior.Removed, invert: true)));
                break;
            case "WhitespaceSplit":
                var whitespace = TokenizerJson.CompileRegex(@"\s+", source);
                steps.Add((pieces, _) => Apply(pieces, piece => SplitByRegex(piece, whitespace, SplitBehavior.Removed, invert: false)));
                break;
            default:
                throw new ModelFormatException(
                    $"{source}: pre_tokenizer type \"{type}\" is not supported (supported: Sequence, ByteLevel, Split, Metaspace, Digits, Whitespace, WhitespaceSplit)");
        }
    }

    private static void Apply(List<string> pieces, Func<string, List<string>> split)
    {
        var output = new List<string>(pieces.Count);
        foreach (var piece in pieces)
        {
            output.AddRange(split(piece));
        }

        pieces.Clear();
        pieces.AddRange(output);
    }

    private enum SplitBehavior
    {
        Removed,
        Isolated,
        MergedWithPrevious,
        MergedWithNext,
        Contiguous,
    }

    private static SplitBehavior ParseBehavior(string name, string source) => name switch
    {
        "Removed" => SplitBehavior.Removed,
        "Isolated" => SplitBehavior.Isolated,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        _ => throw new ModelFormatException($"{source}: Split behavior \"{name}\" is not supported"),
    };

    private static List<string> SplitByRegex(string text, Regex regex, SplitBehavior behavior, bool invert)
    {
        var output = new List<string>();
        SplitByRegex(text, regex, behavior, invert, output);
        return output;
    }

    /// <summary>Splits around the matches (the delimiters), as the tokenizers library's Split does.</summary>
    private static void SplitByRegex(string text, Regex regex, SplitBehavior behavior, bool invert, List<string> output)
    {
        // Spans covering the text in order, each flagged as delimiter (a match, or a gap when inverted).
        var spans = new List<(int Start, int Length, bool Delimiter)>();
        var position = 0;
        foreach (Match match in regex.Matches(text))
        {
            if (match.Length == 0)
            {
                continue;
            }

            if (match.Index > position)
            {
                spans.Add((position, match.Index - position, invert));
            }

            spans.Add((match.Index, match.Length, !invert));
            position = match.Index + match.Length;
        }

        if (position < text.Length)
        {
            spans.Add((position, text.Length - position, invert));
        }

        var pending = new StringBuilder();
        var lastWasDelimiter = false;
        foreach (var (start, length, delimiter) in spans)
        {
            var piece = text.Substring(start, length);
            switch (behavior)
            {
                case SplitBehavior.Removed:
                    if (!delimiter)
                    {
                        output.Add(piece);
                    }

                    break;
                case SplitBehavior.Isolated:
                    output.Add(piece);
                    break;
                case SplitBehavior.MergedWithPrevious:
                    if (delimiter && output.Count > 0 && !lastWasDelimiter)
                    {
                        output[^1] += piece;
                    }
                    else
                    {
                        output.Add(piece);
                    }

                    break;
                case SplitBehavior.MergedWithNext:
                    if (delimiter)
                    {
                        if (pending.Length > 0)
                        {
                            output.Add(pending.ToString());
                            pending.Clear();
                        }

                        pending.Append(piece);
                    }
                    else
                    {
                        pending.Append(piece);
                        output.Add(pending.ToString());
                        pending.Clear();
                    }

                    break;
                case SplitBehavior.Contiguous:
                    if (delimiter && lastWasDelimiter && output.Count > 0)
                    {
                        output[^1] += piece;
                    }
                    else
                    {
                        output.Add(piece);
                    }

                    break;
            }

            lastWasDelimiter = delimiter;
        }

        if (pending.Length > 0)
        {
            output.Add(pending.ToString());
        }
    }
}
