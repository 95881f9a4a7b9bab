using MoeDapr.Contracts;

namespace MoeDapr.Engine;

/// <summary>
/// A sequence to generate. Without <see cref="Kv"/> the engine prefills the prompt itself. With it (from
/// <see cref="InferenceEngine.PrefillAsync"/> or <see cref="InferenceEngine.ImportKvAsync"/>) the prompt's KV is
/// reused and <see cref="FirstToken"/> — already returned by the prefill — is the next input. Whenever
/// <see cref="FirstToken"/> is given (it must be with <see cref="Kv"/>) it is output 0: it is not sampled or yielded
/// again, and generation continues from output index 1.
/// </summary>
public sealed record GenerateRequest
{
    public required string RequestId { get; init; }
    public required IReadOnlyList<int> PromptTokens { get; init; }
    public required SamplingParams Sampling { get; init; }
    public EngineKvHandle? Kv { get; init; }
    public int? FirstToken { get; init; }
}
