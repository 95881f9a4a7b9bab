namespace MoeDapr.Router.Api.OpenAi;

/// <summary>Legacy completions logprobs: parallel arrays per output token.</summary>
public sealed record CompletionLogprobs(
    IReadOnlyList<string> Tokens, IReadOnlyList<float?> TokenLogprobs, IReadOnlyList<IReadOnlyDictionary<string, float>?> TopLogprobs, IReadOnlyList<int> TextOffset);
