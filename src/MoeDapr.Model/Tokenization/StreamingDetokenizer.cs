using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace MoeDapr.Model.Tokenization;

/// <summary>
/// Turns a stream of token ids into text as it arrives, emitting only complete UTF-8 characters: a character
/// whose bytes are spread over several tokens (an emoji in byte-level BPE, <c>&lt;0xF0&gt;&lt;0x9F&gt;...</c> with byte
/// fallback) appears once its last byte has come. Not thread-safe: one per sequence.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly HuggingFaceTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly List<byte> _pending = [];
    private readonly StringBuilder _text = new();
    private int _spacesToStrip;

    /// <param name="tokenizer">The tokenizer whose ids arrive.</param>
    /// <param name="skipSpecialTokens">Drop special tokens (e.g. EOS) from the text.</param>
    /// <param name="atTextStart">
    /// True when the ids start a text (then SentencePiece's prefix space is stripped, as <see cref="HuggingFaceTokenizer.Decode"/> does);
    /// false when they continue a prompt, whose following words keep their leading space.
    /// </param>
    public StreamingDetokenizer(HuggingFaceTokenizer tokenizer, bool skipSpecialTokens = true, bool atTextStart = false)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        _spacesToStrip = atTextStart ? tokenizer.Decoder.StripLeadingSpaces : 0;
    }

    /// <summary>All text emitted so far.</summary>
    public string Text => _text.ToString();

    /// <summary>Bytes held back because they do not yet form a complete character.</summary>
    public int PendingBytes => _pending.Count;

    /// <summary>Adds one token; returns the text it completes (often empty while a character is incomplete).</summary>
    public string Push(int tokenId)
    {
        _tokenizer.AppendTokenBytes(tokenId, _skipSpecialTokens, _pending);
        return Drain(final: false);
    }

    /// <summary>Adds several tokens; returns the text they complete.</summary>
    public string Push(IEnumerable<int> tokenIds)
    {
        foreach (var id in tokenIds)
        {
            _tokenizer.AppendTokenBytes(id, _skipSpecialTokens, _pending);
        }

        return Drain(final: false);
    }

    /// <summary>Ends the stream: bytes of an unfinished character become U+FFFD.</summary>
    public string Flush() => Drain(final: true);

    private string Drain(bool final)
    {
        var bytes = CollectionsMarshal.AsSpan(_pending);
        var output = new StringBuilder();
        var consumed = 0;
        while (consumed < bytes.Length)
        {
            var status = Rune.DecodeFromUtf8(bytes[consumed..], out var rune, out var used);
            if (status == OperationStatus.NeedMoreData && !final)
            {
                break;
            }

            // Invalid or (when final) truncated bytes decode as U+FFFD, as Encoding.UTF8 does.
            output.Append(status == OperationStatus.Done ? rune.ToString() : "\uFFFD");
            consumed += used;
        }

        _pending.RemoveRange(0, consumed);
        var text = output.ToString();
        if (_spacesToStrip > 0 && text.Length > 0)
        {
            var stripped = HuggingFaceTokenizer.StripLeading(text, _spacesToStrip);
            // Only the very start of the text loses its prefix space.
            _spacesToStrip = 0;
            text = stripped;
        }

        _text.Append(text);
        return text;
    }
}
