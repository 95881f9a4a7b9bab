using System.Text;

namespace MoeDapr.Cli.Loadtest;

/// <summary>
/// Random prompts of common English words (about one token each), with a length drawn uniformly in words; optionally
/// each starts with one of a few fixed shared prefixes (a system prompt or few-shot block), which prefix caches can reuse.
/// </summary>
public sealed class PromptFactory
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he",
        "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were", "their",
        "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would", "who", "so",
        "no", "time", "people", "year", "way", "day", "man", "thing", "woman", "life", "child", "world", "school",
        "state", "family", "student", "group", "country", "problem", "hand", "part", "place", "case", "week", "company",
        "system", "program", "question", "work", "government", "number", "night", "point", "home", "water", "room",
        "mother", "area", "money", "story", "fact", "month", "lot", "right", "study", "book", "eye", "job", "word",
        "business", "issue", "side", "kind", "head", "house", "service", "friend", "father", "power", "hour", "game",
        "line", "end", "member", "law", "car", "city", "name", "team", "minute", "idea", "kid", "body", "information",
        "back", "parent", "face", "others", "level", "office", "door", "health", "person", "art", "war", "history",
        "party", "result", "change", "morning", "reason", "research", "girl", "guy", "moment", "air", "teacher",
        "force", "education", "good", "new", "first", "last", "long", "great", "little", "own", "other", "old",
        "big", "high", "different", "small", "large", "next", "early", "young", "important", "few", "public", "bad",
        "same", "able", "say", "make", "go", "know", "take", "see", "come", "think", "look", "want", "give", "use",
        "find", "tell", "ask", "seem", "feel", "try", "leave", "call", "keep", "let", "begin", "help", "show", "hear",
        "play", "run", "move", "live", "believe", "bring", "happen", "write", "provide", "sit", "stand", "lose", "pay",
    ];

    private readonly Random _random;
    private readonly int _minWords;
    private readonly int _maxWords;
    private readonly string[] _prefixes;

    /// <param name="random">Source of prompt lengths, words and prefix choice.</param>
    /// <param name="minWords">Shortest prompt (without the shared prefix), in words.</param>
    /// <param name="maxWords">Longest prompt (without the shared prefix), in words.</param>
    /// <param name="sharedPrefixWords">Words of each shared prefix; 0 for none.</param>
    /// <param name="sharedPrefixes">How many distinct shared prefixes the prompts draw from (uniformly).</param>
    public PromptFactory(Random random, int minWords, int maxWords, int sharedPrefixWords = 0, int sharedPrefixes = 1)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(minWords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWords, minWords);
        ArgumentOutOfRangeException.ThrowIfNegative(sharedPrefixWords);
        ArgumentOutOfRangeException.ThrowIfLessThan(sharedPrefixes, 1);
        _random = random;
        _minWords = minWords;
        _maxWords = maxWords;
        _prefixes = sharedPrefixWords == 0 ? [] : Enumerable.Range(0, sharedPrefixes).Select(_ => RandomWords(sharedPrefixWords)).ToArray();
    }

    /// <summary>The next prompt and its length in words (the shared prefix included).</summary>
    public (string Text, int Words) Next()
    {
        var count = _random.Next(_minWords, _maxWords + 1);
        if (_prefixes.Length == 0)
        {
            return (RandomWords(count), count);
        }

        var prefix = _prefixes[_random.Next(_prefixes.Length)];
        return (prefix + " " + RandomWords(count), count + CountWords(prefix));
    }

    private static int CountWords(string text) => text.Count(c => c == ' ') + 1;

    private string RandomWords(int count)
    {
        var text = new StringBuilder(count * 6);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(' ');
            }

            text.Append(Words[_random.Next(Words.Length)]);
        }

        return text.ToString();
    }
}
