using MoeDapr.Model;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Engine.Tests.Training;

public sealed class CorpusTokenizerTests
{
    private const string Corpus =
        "In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep.\n"
        + "And God said, Let there be light: and there was light. And God saw the light, that it was good: and God divided the light from the darkness.\n";

    [Theory]
    [InlineData(ModelFamily.Qwen3Moe)]
    [InlineData(ModelFamily.Mixtral)]
    public void Create_FromACorpus_RoundTripsAnyTextAndLearnsTheCorpusWords(ModelFamily family)
    {
        var config = ModelPresets.Create(family, ModelPreset.Tiny);
        // Repeated as a real corpus repeats its words; too few merges for the vocabulary, so filler tops it up.
        var tokenizer = HuggingFaceTokenizer.Parse(GeneratedTokenizer.Create(config, string.Concat(Enumerable.Repeat(Corpus, 20))).TokenizerJson);
        const string text = "And God said: the quick brown fox jumps über 12 lazy dogs 🙂\nnew line";

        Assert.Equal(config.VocabSize, tokenizer.VocabSize);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecialTokens: false)));
        // Frequent corpus words become single tokens, before the filler's (SentencePiece prepends the word's space itself).
        var space = family == ModelFamily.Mixtral ? "" : " ";
        Assert.Single(tokenizer.Encode(space + "light", addSpecialTokens: false));
        Assert.Single(tokenizer.Encode(space + "darkness", addSpecialTokens: false));
    }

    [Fact]
    public void Create_SameCorpusTwice_GivesTheSameFiles_OtherCorpus_OtherMerges()
    {
        var config = ModelPresets.Create(ModelFamily.Qwen3Moe, ModelPreset.Tiny);

        var first = GeneratedTokenizer.Create(config, Corpus).TokenizerJson.ToJsonString();
        var second = GeneratedTokenizer.Create(config, Corpus).TokenizerJson.ToJsonString();
        var other = GeneratedTokenizer.Create(config, "Some other text entirely, about foxes and dogs and cats. " + Corpus[..40]).TokenizerJson.ToJsonString();

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }
}
