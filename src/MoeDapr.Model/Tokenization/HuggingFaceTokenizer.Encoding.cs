namespace MoeDapr.Model.Tokenization;

/// <summary>Encoding: added tokens are matched on the raw text first, the spans between them are normalised, pre-tokenised and merged.</summary>
public sealed partial class HuggingFaceTokenizer
{
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_prefix);
        }

        foreach (var (start, length, added) in SplitOnAddedTokens(text))
        {
            if (added is not null)
            {
                ids.Add(added.Id);
                continue;
            }

            var normalized = Normalizer.Normalize(text.Substring(start, length));
            foreach (var word in PreTokenizer.Split(normalized, atTextStart: start == 0))
            {
                Model.Tokenize(word, ids);
            }
        }

        if (addSpecialTokens)
        {
            ids.AddRange(_suffix);
        }

        return ids;
    }

    /// <summary>Splits text into plain spans and added-token matches (leftmost, then longest), honouring lstrip/rstrip/single_word.</summary>
    private List<(int Start, int Length, AddedToken? Added)> SplitOnAddedTokens(string text)
    {
        var spans = new List<(int, int, AddedToken?)>();
        if (_addedByFirstChar.Count == 0)
        {
            spans.Add((0, text.Length, null));
            return spans;
        }

        var plainStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            var match = MatchAt(text, i);
            if (match is null)
            {
                i++;
                continue;
            }

            var start = i;
            var end = i + match.Content.Length;
            if (match.LStrip)
            {
                while (start > plainStart && char.IsWhiteSpace(text[start - 1]))
                {
                    start--;
                }
            }

            if (match.RStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                {
                    end++;
                }
            }

            if (start > plainStart)
            {
                spans.Add((plainStart, start - plainStart, null));
            }

            spans.Add((start, end - start, match));
            plainStart = end;
            i = end;
        }

        if (plainStart < text.Length)
        {
            spans.Add((plainStart, text.Length - plainStart, null));
        }

        return spans;
    }

    private AddedToken? MatchAt(string text, int i)
    {
        if (!_addedByFirstChar.TryGetValue(text[i], out var candidates))
        {
            return null;
        }

        foreach (var candidate in candidates)
        {
            if (i + candidate.Content.Length > text.Length || string.CompareOrdinal(text, i, candidate.Content, 0, candidate.Content.Length) != 0)
            {
                continue;
            }

            if (candidate.SingleWord)
            {
                var end = i + candidate.Content.Length;
                var boundaryBefore = i == 0 || !char.IsLetterOrDigit(text[i - 1]);
                var boundaryAfter = end == text.Length || !char.IsLetterOrDigit(text[end]);
                if (!boundaryBefore || !boundaryAfter)
                {
                    continue;
                }
            }

            return candidate;
        }

        return null;
    }
}
