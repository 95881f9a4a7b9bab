using MoeDapr.Cli.Loadtest;

namespace MoeDapr.Cli.Tests.Loadtest;

public sealed class PromptFactoryTests
{
    [Fact]
    public void Next_SharedPrefixes_EveryPromptStartsWithOneOfThemAndAllAreUsed()
    {
        var factory = new PromptFactory(new Random(3), 4, 6, sharedPrefixWords: 20, sharedPrefixes: 3);

        var prompts = Enumerable.Range(0, 300).Select(_ => factory.Next()).ToList();

        var prefixes = prompts.Select(p => string.Join(' ', p.Text.Split(' ').Take(20))).Distinct().ToList();
        Assert.Equal(3, prefixes.Count);
        Assert.All(prompts, p => Assert.InRange(p.Words, 24, 26));
        Assert.All(prompts, p => Assert.Equal(p.Words, p.Text.Split(' ').Length));
    }

    [Fact]
    public void Next_NoSharedPrefix_PromptsDifferFromTheFirstWord()
    {
        var factory = new PromptFactory(new Random(3), 20, 20);

        var firstWords = Enumerable.Range(0, 50).Select(_ => string.Join(' ', factory.Next().Text.Split(' ').Take(3))).Distinct().Count();

        Assert.True(firstWords > 40, $"only {firstWords} distinct openings among 50 prompts");
    }
}
