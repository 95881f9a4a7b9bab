using System.Text.Json.Nodes;

namespace MoeDapr.Model.Tests;

public sealed class PromptRulesTests
{
    private static readonly PromptRules Rules = new(ContextLength: 16, VocabSize: 50);

    [Fact]
    public void Check_PromptAndMaxTokensFillTheContextExactly_Passes()
    {
        Assert.Null(Rules.Check([1, 2, 3, 4, 5, 6], 10));
        Assert.StartsWith("promptTokenIds:", Rules.Check([1, 2, 3, 4, 5, 6], 11), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_MaxTokensOfIntMaxValue_IsAContextViolationNotAnOverflow()
    {
        var problem = Rules.Check([1, 2, 3], int.MaxValue);

        Assert.NotNull(problem);
        Assert.Contains($"maxTokens {int.MaxValue} exceed the context of 16", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new int[0], "at least one token")]
    [InlineData(new[] { 3, 50 }, "token id 50 is outside the vocabulary [0, 50)")]
    [InlineData(new[] { -1 }, "token id -1 is outside")]
    public void Check_EmptyPromptOrIdOutsideVocabulary_NamesTheRule(int[] prompt, string expected)
    {
        Assert.Contains(expected, Rules.Check(prompt, 1), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 64)]
    [InlineData(32, 32)]
    [InlineData(100, 64)]
    public void For_ConfiguredCap_TakesTheSmallerOfItAndTheModelMaximum(int cap, int expected)
    {
        var config = ModelConfig.Parse(new JsonObject
        {
            ["model_type"] = "mixtral", ["vocab_size"] = 96, ["hidden_size"] = 32, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["intermediate_size"] = 24,
            ["num_local_experts"] = 4, ["num_experts_per_tok"] = 2, ["max_position_embeddings"] = 64,
        });

        var rules = PromptRules.For(config, cap);

        Assert.Equal(new PromptRules(expected, 96), rules);
    }
}
