using System.Text;

namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>Finds the metric names a PromQL expression reads (enough of PromQL's grammar for dashboards and rules).</summary>
internal static partial class PromQl
{
    private static readonly HashSet<string> Keywords =
    [
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset",
        "inf", "nan", "Inf", "NaN", "atan2",
    ];

    /// <summary>
    /// Metric names in <paramref name="expression"/>: identifiers that are not functions, keywords, label names
    /// (inside <c>{}</c> or grouping clauses), durations or strings. Grafana variables (<c>$x</c>, <c>${x}</c>) are ignored.
    /// </summary>
    public static IReadOnlySet<string> MetricNames(string expression)
    {
        var text = StringLiteral().Replace(expression, " ");
        text = GrafanaVariable().Replace(text, " ");
        text = LabelMatchers().Replace(text, " ");
        text = RangeSelector().Replace(text, " ");
        text = GroupingClause().Replace(text, " ");

        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsDigit(c) || (c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                // A number, possibly with an exponent or a duration unit (5m, 1e-9): not a name.
                i++;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '.' or '_' ||
                       (text[i] is '+' or '-' && text[i - 1] is 'e' or 'E')))
                {
                    i++;
                }

                continue;
            }

            if (char.IsLetter(c) || c is '_' or ':')
            {
                var token = new StringBuilder();
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or ':'))
                {
                    token.Append(text[i++]);
                }

                var next = i;
                while (next < text.Length && char.IsWhiteSpace(text[next]))
                {
                    next++;
                }

                var isCall = next < text.Length && text[next] == '(';
                var name = token.ToString();
                if (!isCall && !Keywords.Contains(name))
                {
                    names.Add(name);
                }

                continue;
            }

            i++;
        }

        return names;
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex GrafanaVariable();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex RangeSelector();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex GroupingClause();
}
