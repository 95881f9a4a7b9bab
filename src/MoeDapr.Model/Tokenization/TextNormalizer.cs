using System.Text;
using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tokenization;

/// <summary>The <c>normalizer</c> of a tokenizer.json: a sequence of text rewrites applied to each segment before pre-tokenization.</summary>
public sealed class TextNormalizer
{
    private readonly List<Func<string, string>> _steps;

    private TextNormalizer(List<Func<string, string>> steps) => _steps = steps;

    public static TextNormalizer Identity { get; } = new([]);

    public string Normalize(string text)
    {
        foreach (var step in _steps)
        {
            text = step(text);
        }

        return text;
    }

    /// <summary>
    /// Builds the normalizer from its JSON. Supported: Sequence, Prepend, Replace, Lowercase, Strip, and the
    /// Unicode forms NFC/NFD/NFKC/NFKD (these need ICU; under invariant globalization .NET leaves text unchanged).
    /// </summary>
    public static TextNormalizer FromJson(JsonNode? node, string source)
    {
        var steps = new List<Func<string, string>>();
        Add(node, steps, source);
        return new TextNormalizer(steps);
    }

    private static void Add(JsonNode? node, List<Func<string, string>> steps, string source)
    {
        if (node is null)
        {
            return;
        }

        var type = TokenizerJson.TypeOf(node, "normalizer", source);
        switch (type)
        {
            case "Sequence":
                foreach (var child in TokenizerJson.Array(node, "normalizers", source))
                {
                    Add(child, steps, source);
                }

                break;
            case "Prepend":
                var prepend = TokenizerJson.RequiredString(node, "prepend", source);
                steps.Add(text => text.Length == 0 ? text : prepend + text);
                break;
            case "Replace":
                var (pattern, isRegex) = TokenizerJson.Pattern(node, source);
                var content = TokenizerJson.RequiredString(node, "content", source);
                if (isRegex)
                {
                    var regex = TokenizerJson.CompileRegex(pattern, source);
                    steps.Add(text => regex.Replace(text, _ => content));
                }
                else
                {
                    steps.Add(text => text.Replace(pattern, content, StringComparison.Ordinal));
                }

                break;
            case "Lowercase":
                steps.Add(text => text.ToLowerInvariant());
                break;
            case "Strip":
                var left = node["strip_left"]?.GetValue<bool>() ?? true;
                var right = node["strip_right"]?.GetValue<bool>() ?? true;
                steps.Add(text => left && right ? text.Trim() : left ? text.TrimStart() : right ? text.TrimEnd() : text);
                break;
            case "NFC":
                steps.Add(text => Normalize(text, NormalizationForm.FormC));
                break;
            case "NFD":
                steps.Add(text => Normalize(text, NormalizationForm.FormD));
                break;
            case "NFKC":
                steps.Add(text => Normalize(text, NormalizationForm.FormKC));
                break;
            case "NFKD":
                steps.Add(text => Normalize(text, NormalizationForm.FormKD));
                break;
            default:
                throw new ModelFormatException(
                    $"{source}: normalizer type \"{type}\" is not supported (supported: Sequence, Prepend, Replace, Lowercase, Strip, NFC, NFD, NFKC, NFKD)");
        }
    }

    private static string Normalize(string text, NormalizationForm form)
    {
        try
        {
            return text.IsNormalized(form) ? text : text.Normalize(form);
        }
        catch (ArgumentException)
        {
            // Invalid UTF-16 (a lone surrogate) cannot be normalized; the byte-level model still encodes it.
            return text;
        }
    }
}
