using MoeDapr.Model;

namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>Byte-level tokenizer for tests: 0 pad, 1 BOS, 2 EOS, 3..258 the UTF-8 bytes.</summary>
public sealed class FakeTokenizer : ITextTokenizer
{
    public const int Bos = 1;
    public const int Eos = 2;
    private const int ByteOffset = 3;

    public int VocabSize => 256 + ByteOffset;

    public int? BosTokenId => Bos;

    public IReadOnlyList<int> EosTokenIds => [Eos];

    public static int[] Ids(string text) => Encoding.UTF8.GetBytes(text).Select(b => b + ByteOffset).ToArray();

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true) =>
        addSpecialTokens ? [Bos, .. Ids(text)] : Ids(text);

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (id >= ByteOffset)
            {
                bytes.Add((byte)(id - ByteOffset));
                continue;
            }

            text.Append(Encoding.UTF8.GetString(bytes.ToArray()));
            bytes.Clear();
            if (!skipSpecialTokens)
            {
                text.Append(id switch { Bos => "<s>", Eos => "</s>", _ => "<pad>" });
            }
        }

        return text.Append(Encoding.UTF8.GetString(bytes.ToArray())).ToString();
    }
}
