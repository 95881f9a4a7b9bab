using System.Text.Json;
using System.Text.RegularExpressions;

namespace MoeDapr.Sidecar.Resources;

/// <summary>
/// The subset of Dapr's CEL routing rules the sidecar evaluates: comparisons of an event field with a literal
/// (<c>event.type == "order"</c>, <c>event.data.kind != 'x'</c>, numbers, true/false), joined by <c>&amp;&amp;</c>.
/// </summary>
public sealed partial class MatchExpression
{
    private readonly List<(string[] Path, bool Equal, JsonElement Literal)> _terms;

    private MatchExpression(List<(string[] Path, bool Equal, JsonElement Literal)> terms) => _terms = terms;

    public static bool TryParse(string text, out MatchExpression? expression, out string? error)
    {
        expression = null;
        error = null;
        var terms = new List<(string[] Path, bool Equal, JsonElement Literal)>();
        foreach (var part in text.Split("&&", StringSplitOptions.TrimEntries))
        {
            var match = Term().Match(part);
            if (!match.Success)
            {
                error = "only comparisons 'event.<field> == <literal>' (or !=) joined by && are supported";
                return false;
            }

            var literalText = match.Groups["lit"].Value;
            if (literalText.StartsWith('\'') && literalText.EndsWith('\''))
            {
                literalText = JsonSerializer.Serialize(literalText[1..^1]);
            }

            JsonElement literal;
            try
            {
                literal = JsonDocument.Parse(literalText).RootElement.Clone();
            }
            catch (JsonException)
            {
                error = $"'{match.Groups["lit"].Value}' is not a string, number or boolean literal";
                return false;
            }

            terms.Add((match.Groups["path"].Value.Split('.'), match.Groups["op"].Value == "==", literal));
        }

        expression = new MatchExpression(terms);
        return true;
    }

    /// <summary>Evaluates against the CloudEvent envelope (a JSON object).</summary>
    public bool Matches(JsonElement envelope)
    {
        foreach (var (path, equal, literal) in _terms)
        {
            var current = envelope;
            var found = true;
            foreach (var segment in path)
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
                {
                    found = false;
                    break;
                }
            }

            var same = found && SameValue(current, literal);
            if (same != equal)
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameValue(JsonElement a, JsonElement b) => (a.ValueKind, b.ValueKind) switch
    {
        (JsonValueKind.String, JsonValueKind.String) => a.GetString() == b.GetString(),
        (JsonValueKind.Number, JsonValueKind.Number) => a.GetDouble().Equals(b.GetDouble()),
        (JsonValueKind.True or JsonValueKind.False, JsonValueKind.True or JsonValueKind.False) => a.ValueKind == b.ValueKind,
        (JsonValueKind.Number, JsonValueKind.String) => a.GetRawText() == b.GetString(),
        _ => string.Equals(a.ToString(), b.ToString(), StringComparison.Ordinal) && a.ValueKind == b.ValueKind,
    };

    public override string ToString() => string.Join(" && ", _terms.Select(t =>
        $"event.{string.Join('.', t.Path)} {(t.Equal ? "==" : "!=")} {t.Literal.GetRawText()}"));

    [GeneratedRegex(@"^\s*event\.(?<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(?<op>==|!=)\s*(?<lit>""[^""]*""|'[^']*'|-?[0-9]+(?:\.[0-9]+)?|true|false)\s*$")]
    private static partial Regex Term();
}
