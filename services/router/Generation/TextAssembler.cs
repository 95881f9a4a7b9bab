using System.Text;
using MoeDapr.Model;

namespace MoeDapr.Router.Generation;

/// <summary>
/// Turns output token ids into client text as they arrive: decodes incrementally (a window of recent tokens, so
/// multi-token characters and tokenizers that drop a leading space decode right), holds back text that may still
/// become a stop string, and ends the text before the first stop string (OpenAI excludes the stop string itself).
/// </summary>
public sealed class TextAssembler(ITextTokenizer tokenizer, IReadOnlyList<string> stopStrings)
{
    private const char Replacement = '\uFFFD';
    private readonly List<int> _ids = [];
    private readonly StringBuilder _text = new();
    private readonly int _maxStop = stopStrings.Count == 0 ? 0 : stopStrings.Max(s => s.Length);
    private int _prefixOffset;
    private int _readOffset;
    private int _emitted;

    /// <summary>True once a stop string matched; later tokens are ignored.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The stop string that matched, if any.</summary>
    public string? MatchedStop { get; private set; }

    /// <summary>The client-visible text so far (what <see cref="Add"/> and <see cref="Flush"/> returned).</summary>
    public string Emitted => _text.ToString(0, _emitted);

    /// <summary>Adds a token and returns the text that may now be sent (possibly empty).</summary>
    public string Add(int tokenId)
    {
        if (Stopped)
        {
            return string.Empty;
        }

        _ids.Add(tokenId);
        var prefix = tokenizer.Decode(Window(_prefixOffset, _readOffset));
        var full = tokenizer.Decode(Window(_prefixOffset, _ids.Count));
        if (full.Length > prefix.Length && !full.EndsWith(Replacement) && full.StartsWith(prefix, StringComparison.Ordinal))
        {
            _text.Append(full, prefix.Length, full.Length - prefix.Length);
            _prefixOffset = _readOffset;
            _readOffset = _ids.Count;
        }

        return Release(final: false);
    }

    /// <summary>At the end of the sequence: everything still held back (incomplete characters included).</summary>
    public string Flush()
    {
        if (Stopped)
        {
            return string.Empty;
        }

        if (_readOffset < _ids.Count)
        {
            var prefix = tokenizer.Decode(Window(_prefixOffset, _readOffset));
            var full = tokenizer.Decode(Window(_prefixOffset, _ids.Count));
            if (full.Length > prefix.Length)
            {
                _text.Append(full, prefix.Length, full.Length - prefix.Length);
            }

            _readOffset = _ids.Count;
        }

        return Release(final: true);
    }

    private IEnumerable<int> Window(int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            yield return _ids[i];
        }
    }

    private string Release(bool final)
    {
        if (_maxStop > 0)
        {
            // Only text not yet released can start a new match.
            var searchFrom = Math.Max(0, _emitted - _maxStop + 1);
            var text = _text.ToString();
            var best = -1;
            foreach (var stop in stopStrings)
            {
                var at = text.IndexOf(stop, searchFrom, StringComparison.Ordinal);
                if (at >= 0 && (best < 0 || at < best))
                {
                    best = at;
                    MatchedStop = stop;
                }
            }

            if (best >= 0)
            {
                Stopped = true;
                return Take(Math.Max(best, _emitted));
            }

            if (!final)
            {
                return Take(_text.Length - HeldBack(text));
            }
        }

        return Take(_text.Length);
    }

    // Longest tail of the text that is the start of some stop string.
    private int HeldBack(string text)
    {
        for (var k = Math.Min(_maxStop - 1, text.Length - _emitted); k > 0; k--)
        {
            var tail = text[^k..];
            if (stopStrings.Any(s => s.StartsWith(tail, StringComparison.Ordinal)))
            {
                return k;
            }
        }

        return 0;
    }

    private string Take(int upTo)
    {
        if (upTo <= _emitted)
        {
            return string.Empty;
        }

        var delta = _text.ToString(_emitted, upTo - _emitted);
        _emitted = upTo;
        return delta;
    }
}
