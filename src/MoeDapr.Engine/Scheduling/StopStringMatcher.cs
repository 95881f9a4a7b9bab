using System.Text;
using MoeDapr.Model;

namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// Finds stop strings in a sequence's output text as tokens arrive. The text grows by detokenizing a short window
/// of recent tokens (the characters the newest tokens add once they form whole characters), as the router's text
/// assembly does, so a stop string split over tokens, or over the bytes of one character, is seen exactly when the
/// client's text would contain it. Each token searches only where a new match can end.
/// </summary>
internal sealed class StopStringMatcher
{
    private const char Incomplete = '\uFFFD';
    private readonly ITextTokenizer _tokenizer;
    private readonly IReadOnlyList<string> _stops;
    private readonly int _longest;
    private readonly StringBuilder _text = new();
    private int _seen;
    private int _windowStart;
    private int _windowSplit;

    public StopStringMatcher(ITextTokenizer tokenizer, IReadOnlyList<string> stops)
    {
        _tokenizer = tokenizer;
        _stops = stops;
        _longest = stops.Max(s => s.Length);
    }

    /// <summary>The output text detokenized so far (characters not yet complete are left out).</summary>
    public string Text => _text.ToString();

    /// <summary>Takes the tokens of <paramref name="output"/> not seen yet; returns the stop string they complete, or null.</summary>
    public string? Advance(IReadOnlyList<int> output)
    {
        string? matched = null;
        while (_seen < output.Count && matched is null)
        {
            _seen++;
            var before = _text.Length;
            if (AppendNewText(output))
            {
                matched = FindFrom(Math.Max(0, before - _longest + 1));
            }
        }

        return matched;
    }

    /// <summary>Appends what tokens [_windowSplit, _seen) add to the text once they end on a whole character.</summary>
    private bool AppendNewText(IReadOnlyList<int> output)
    {
        // Decoding from a few tokens back keeps tokenizers that drop or merge a leading space right at the boundary.
        var settled = _tokenizer.Decode(Slice(output, _windowStart, _windowSplit));
        var extended = _tokenizer.Decode(Slice(output, _windowStart, _seen));
        if (extended.Length <= settled.Length || extended[^1] == Incomplete || !extended.StartsWith(settled, StringComparison.Ordinal))
        {
            return false; // no new whole character yet
        }

        _text.Append(extended, settled.Length, extended.Length - settled.Length);
        _windowStart = _windowSplit;
        _windowSplit = _seen;
        return true;
    }

    private string? FindFrom(int start)
    {
        var tail = _text.ToString(start, _text.Length - start);
        string? first = null;
        var firstAt = int.MaxValue;
        foreach (var stop in _stops)
        {
            var at = tail.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && at < firstAt)
            {
                (first, firstAt) = (stop, at);
            }
        }

        return first;
    }

    private static IEnumerable<int> Slice(IReadOnlyList<int> tokens, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            yield return tokens[i];
        }
    }
}
