using MoeDapr.Contracts;

namespace MoeDapr.Engine;

/// <summary>A prompt to prefill.</summary>
public sealed record PrefillRequest(string RequestId, IReadOnlyList<int> PromptTokens, SamplingParams Sampling);
