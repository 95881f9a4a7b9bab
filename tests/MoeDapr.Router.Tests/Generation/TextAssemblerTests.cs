using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Tests.Generation;

public sealed class TextAssemblerTests
{
    private static string Feed(TextAssembler assembler, string text)
    {
        var output = string.Concat(FakeTokenizer.Ids(text).Select(assembler.Add));
        return output + assembler.Flush();
    }

    [Fact]
    public void Add_MultiByteCharacters_EmitsWholeCharactersOnly()
    {
        var assembler = new TextAssembler(new FakeTokenizer(), []);
        var ids = FakeTokenizer.Ids("é!");

        Assert.Equal(string.Empty, assembler.Add(ids[0])); // first byte of é: nothing printable yet
        Assert.Equal("é", assembler.Add(ids[1]));
        Assert.Equal("!", assembler.Add(ids[2]));
    }

    [Fact]
    public void Add_StopString_TextEndsBeforeIt()
    {
        var assembler = new TextAssembler(new FakeTokenizer(), ["STOP"]);

        Assert.Equal("Hello ", Feed(assembler, "Hello STOP and more"));
        Assert.True(assembler.Stopped);
        Assert.Equal("STOP", assembler.MatchedStop);
    }

    [Fact]
    public void Add_PossibleStopPrefix_IsHeldBackUntilDisproved()
    {
        var assembler = new TextAssembler(new FakeTokenizer(), ["ST"]);
        var ids = FakeTokenizer.Ids("aSb");

        Assert.Equal("a", assembler.Add(ids[0]));
        Assert.Equal(string.Empty, assembler.Add(ids[1])); // "S" might begin "ST"
        Assert.Equal("Sb", assembler.Add(ids[2]));
        Assert.False(assembler.Stopped);
    }

    [Fact]
    public void Flush_HeldBackTextAtTheEnd_IsReleased()
    {
        var assembler = new TextAssembler(new FakeTokenizer(), ["STOP"]);

        Assert.Equal("endS", Feed(assembler, "endS"));
        Assert.False(assembler.Stopped);
    }

    [Fact]
    public void Add_EosToken_IsNotPartOfTheText()
    {
        var assembler = new TextAssembler(new FakeTokenizer(), []);

        var text = string.Concat(FakeTokenizer.Ids("ok").Select(assembler.Add)) + assembler.Add(FakeTokenizer.Eos) + assembler.Flush();

        Assert.Equal("ok", text);
    }
}
