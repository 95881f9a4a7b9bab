namespace MoeDapr.Contracts;

/// <summary>
/// Body of <see cref="WorkerMethods.PrefillBatch"/>: sequences the router grouped into one prefill batch.
/// The worker runs them together, samples each first token, writes each sequence's KV blocks to kv-transfer
/// and answers with one <see cref="PrefillSequenceResult"/> per sequence, in the same order.
/// </summary>
public sealed record PrefillBatchRequest
{
    /// <summary>Router-assigned id, for logs and metrics.</summary>
    public required string BatchId { get; init; }

    public required IReadOnlyList<PrefillSequence> Sequences { get; init; }

    /// <summary>Unix milliseconds after which the router has given up; the worker may drop the batch (answer 504).</summary>
    public long? DeadlineUnixMs { get; init; }
}

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

/// <summary>Answer of <see cref="WorkerMethods.PrefillBatch"/> (HTTP 200 even when single sequences failed).</summary>
public sealed record PrefillBatchResponse
{
    public required string BatchId { get; init; }

    /// <summary>App id of the replica that ran the batch.</summary>
    public required string WorkerAppId { get; init; }

    public required IReadOnlyList<PrefillSequenceResult> Results { get; init; }
}

/// <summary>
/// The outcome for one sequence. On success <see cref="FirstToken"/> is set and either <see cref="KvHandle"/> is set
/// (decode continues from it) or <see cref="FinishReason"/> is set (the first token already ended the sequence: EOS,
/// a stop token, or <c>MaxTokens == 1</c>; no KV was kept). On failure only <see cref="Error"/> is set.
/// </summary>
public sealed record PrefillSequenceResult
{
    public required string RequestId { get; init; }

    public TokenSample? FirstToken { get; init; }

    /// <summary>Opaque kv-transfer handle of the committed KV blocks, to pass to <see cref="DecodeRequest.KvHandle"/>.</summary>
    public string? KvHandle { get; init; }

    /// <summary>Prompt tokens covered by the KV (the whole prompt).</summary>
    public int PromptTokens { get; init; }

    /// <summary>Prompt tokens whose KV came from the prefix cache instead of being computed.</summary>
    public int CachedTokens { get; init; }

    public FinishReason? FinishReason { get; init; }

    public WorkerError? Error { get; init; }
}
