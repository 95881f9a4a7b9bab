using MoeDapr.Contracts;

namespace MoeDapr.Router.Generation;

/// <summary>A validated, tokenized OpenAI request.</summary>
public sealed record GenerationRequest
{
    public required ApiKind Kind { get; init; }

    public required string Model { get; init; }

    public required IReadOnlyList<int> PromptTokenIds { get; init; }

    public required SamplingParams Sampling { get; init; }

    public RequestPriority Priority { get; init; } = RequestPriority.Normal;

    public bool Stream { get; init; }

    /// <summary><c>stream_options.include_usage</c>: a last chunk with usage and no choices.</summary>
    public bool IncludeUsage { get; init; }

    /// <summary>vLLM's extension: <c>token_ids</c> (and <c>prompt_token_ids</c>) in each choice.</summary>
    public bool ReturnTokenIds { get; init; }

    /// <summary>Completions: <c>logprobs</c> (top-k, 0..20); chat: <c>top_logprobs</c> when <c>logprobs</c> is true; null when none.</summary>
    public int? Logprobs { get; init; }

    public string? User { get; init; }
}
