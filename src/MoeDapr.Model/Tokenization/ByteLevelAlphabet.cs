namespace MoeDapr.Model.Tokenization;

/// <summary>
/// GPT-2's reversible map from the 256 byte values to printable characters: printable Latin-1 bytes
/// (<c>!</c>..<c>~</c>, <c>¡</c>..<c>¬</c>, <c>®</c>..<c>ÿ</c>) map to themselves, the other 68 to U+0100 onwards in
/// byte order (so a space becomes <c>Ġ</c> and a newline <c>Ċ</c>).
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    /// <summary>The 256 characters in byte order.</summary>
    public static ReadOnlySpan<char> Characters => ByteToChar;

    public static char ToChar(byte value) => ByteToChar[value];

    public static bool TryGetByte(char c, out byte value) => CharToByte.TryGetValue(c, out value);

    /// <summary>Maps UTF-8 bytes to their alphabet characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = ByteToChar[source[i]];
            }
        });
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (var b = 0; b < 256; b++)
        {
            map[ByteToChar[b]] = (byte)b;
        }

        return map;
    }
}
