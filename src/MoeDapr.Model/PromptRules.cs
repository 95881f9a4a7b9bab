namespace MoeDapr.Model;

/// <summary>
/// What a served model accepts as a prompt: at least one token, every id inside the vocabulary, and room in the
/// context for the prompt plus all the tokens it asks for. The engine, prefill and decode check the same rules.
/// </summary>
/// <param name="ContextLength">Most tokens (prompt plus output) one sequence may hold.</param>
/// <param name="VocabSize">Token ids must lie in [0, VocabSize).</param>
public sealed record PromptRules(int ContextLength, int VocabSize)
{
    /// <summary>
    /// The rules of <paramref name="config"/> served with a context cap of <paramref name="maxSequenceLength"/>
    /// (0 or less: the model's own maximum; a cap above the model's maximum is ignored).
    /// </summary>
    public static PromptRules For(ModelConfig config, int maxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(config);
        var context = maxSequenceLength > 0 ? Math.Min(maxSequenceLength, config.MaxPositionEmbeddings) : config.MaxPositionEmbeddings;
        return new PromptRules(context, config.VocabSize);
    }

    /// <summary>
    /// The first rule <paramref name="promptTokenIds"/> with <paramref name="maxTokens"/> output tokens breaks, as
    /// "field: reason", or null when it keeps them all.
    /// </summary>
    public string? Check(IReadOnlyList<int>? promptTokenIds, int maxTokens)
    {
        if (promptTokenIds is not { Count: > 0 } prompt)
        {
            return "promptTokenIds: must hold at least one token";
        }

        for (var i = 0; i < prompt.Count; i++)
        {
            if (prompt[i] < 0 || prompt[i] >= VocabSize)
            {
                return $"promptTokenIds: token id {prompt[i]} is outside the vocabulary [0, {VocabSize})";
            }
        }

        // In long: a maxTokens near int.MaxValue must read as too long, not wrap around to a small sum.
        var needed = (long)prompt.Count + maxTokens;
        return needed > ContextLength
            ? $"promptTokenIds: {prompt.Count} prompt tokens plus maxTokens {maxTokens} exceed the context of {ContextLength} tokens"
            : null;
    }

    /// <summary>Whether <paramref name="tokenId"/> is an id of the vocabulary.</summary>
    public bool InVocabulary(int tokenId) => tokenId >= 0 && tokenId < VocabSize;
}
