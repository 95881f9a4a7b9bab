namespace MoeDapr.Contracts;

/// <summary>One prompt in a prefill batch.</summary>
public sealed record PrefillSequence
{
    public required string RequestId { get; init; }

    /// <summary>Prompt token ids, BOS and chat template already applied; not empty.</summary>
    public required IReadOnlyList<int> PromptTokenIds { get; init; }

    public required SamplingParams Sampling { get; init; }

    /// <summary>App id of the decode replica that will import the KV, so kv-transfer can pick the data plane.</summary>
    public string? DecodeAppId { get; init; }

    public RequestPriority Priority { get; init; } = RequestPriority.Normal;
}
