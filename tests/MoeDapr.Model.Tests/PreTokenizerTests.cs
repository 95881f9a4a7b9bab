using System.Text.Json.Nodes;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Model.Tests;

public sealed class PreTokenizerTests
{
    private static List<string> Split(string json, string text) =>
        PreTokenizer.FromJson(JsonNode.Parse(json), "test").Split(text, atTextStart: true);

    [Theory]
    [InlineData("Isolated", new[] { "a", "-", "b", "-", "-", "c" })]
    [InlineData("Removed", new[] { "a", "b", "c" })]
    [InlineData("MergedWithPrevious", new[] { "a-", "b-", "-", "c" })]
    [InlineData("MergedWithNext", new[] { "a", "-b", "-", "-c" })]
    [InlineData("Contiguous", new[] { "a", "-", "b", "--", "c" })]
    public void Split_EachBehavior_PlacesDelimitersAsTheTokenizersLibraryDoes(string behavior, string[] expected)
    {
        var pieces = Split($$"""{"type":"Split","pattern":{"String":"-"},"behavior":"{{behavior}}","invert":false}""", "a-b--c");

        Assert.Equal(expected, pieces);
    }

    [Fact]
    public void Split_QwenPattern_SeparatesContractionsDigitsAndNewlines()
    {
        var pieces = Split(
            $$"""{"type":"Split","pattern":{"Regex":{{System.Text.Json.JsonSerializer.Serialize(GeneratedTokenizer.QwenPattern)}}},"behavior":"Isolated","invert":false}""",
            "It's 42 cats!\n\nOK");

        Assert.Equal(["It", "'s", " ", "4", "2", " cats", "!\n\n", "OK"], pieces);
    }

    [Fact]
    public void ByteLevel_WithRegex_MapsSpacesAndNewlinesToTheByteAlphabet()
    {
        var pieces = Split("""{"type":"ByteLevel","add_prefix_space":true,"use_regex":true}""", "hi there\n");

        Assert.Equal(["Ġhi", "Ġthere", "Ċ"], pieces);
    }

    [Fact]
    public void Digits_IndividualDigits_SplitsEveryDigit()
    {
        Assert.Equal(["ab", "1", "2", "3", "c"], Split("""{"type":"Digits","individual_digits":true}""", "ab123c"));
        Assert.Equal(["ab", "123", "c"], Split("""{"type":"Digits","individual_digits":false}""", "ab123c"));
    }

    [Fact]
    public void Whitespace_KeepsWordsAndPunctuationRuns()
    {
        Assert.Equal(["Hello", ",", "world", "!!"], Split("""{"type":"Whitespace"}""", "Hello, world !!"));
    }

    [Fact]
    public void FromJson_UnsupportedType_IsRejectedByName()
    {
        var error = Assert.Throws<ModelFormatException>(() => Split("""{"type":"BertPreTokenizer"}""", "x"));

        Assert.Contains("pre_tokenizer type \"BertPreTokenizer\" is not supported", error.Message);
    }
}
