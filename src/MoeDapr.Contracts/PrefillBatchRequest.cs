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
