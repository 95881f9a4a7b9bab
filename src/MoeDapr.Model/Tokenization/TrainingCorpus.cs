using System.Text;

namespace MoeDapr.Model.Tokenization;

/// <summary>
/// Text to train generated tokenizers on: English prose written for this project (embedded), plus
/// deterministic filler sentences of real and made-up words for vocabularies larger than the prose can fill.
/// </summary>
public static class TrainingCorpus
{
    private static readonly string[] Onsets =
    [
        "", "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "y", "z",
        "bl", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sc", "sh", "sk", "sl", "sm", "sn",
        "sp", "st", "str", "th", "tr", "wh", "qu",
    ];

    private static readonly string[] Vowels = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "oo", "ou", "ie", "oa", "y"];

    private static readonly string[] Codas =
    [
        "", "", "", "b", "ck", "d", "ft", "g", "l", "ll", "m", "mp", "n", "nd", "ng", "nt", "p", "r", "rd", "rn", "s", "sh", "st", "t", "th", "x",
    ];

    private static readonly string[] Endings = ["", "", "", "s", "ed", "ing", "er", "ly", "tion", "ness", "able", "ful"];

    private static readonly Lazy<string> EnglishText = new(ReadEnglish);

    /// <summary>The embedded English prose (about 2,300 words).</summary>
    public static string English => EnglishText.Value;

    /// <summary>
    /// <paramref name="sentences"/> filler sentences, the same for the same arguments: roughly half the words
    /// come from the prose, the rest are pronounceable inventions, with numbers and punctuation mixed in.
    /// </summary>
    public static string Filler(int sentences, int seed)
    {
        var random = new Random(seed);
        var realWords = English.Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.Trim('.', ',', ';', ':', '!', '?', '"', '(', ')'))
            .Where(w => w.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
        var text = new StringBuilder();
        for (var s = 0; s < sentences; s++)
        {
            var length = random.Next(4, 14);
            for (var w = 0; w < length; w++)
            {
                var word = random.Next(10) switch
                {
                    < 4 => realWords[random.Next(realWords.Length)],
                    4 when random.Next(3) == 0 => random.Next(0, 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => Invent(random),
                };
                if (w == 0 || random.Next(12) == 0)
                {
                    word = char.ToUpperInvariant(word[0]) + word[1..];
                }

                text.Append(word);
                text.Append(w == length - 1 ? "" : random.Next(10) == 0 ? ", " : " ");
            }

            text.Append(random.Next(8) switch
            {
                0 => "? ",
                1 => "! ",
                2 => ".\n",
                _ => ". ",
            });
        }

        return text.ToString();
    }

    private static string Invent(Random random)
    {
        var syllables = random.Next(1, 4);
        var word = new StringBuilder();
        for (var i = 0; i < syllables; i++)
        {
            word.Append(Onsets[random.Next(Onsets.Length)]);
            word.Append(Vowels[random.Next(Vowels.Length)]);
            word.Append(Codas[random.Next(Codas.Length)]);
        }

        word.Append(Endings[random.Next(Endings.Length)]);
        return word.ToString();
    }

    private static string ReadEnglish()
    {
        var assembly = typeof(TrainingCorpus).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.EndsWith("english.txt", StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
