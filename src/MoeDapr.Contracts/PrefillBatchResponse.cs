namespace MoeDapr.Contracts;

/// <summary>Answer of <see cref="WorkerMethods.PrefillBatch"/> (HTTP 200 even when single sequences failed).</summary>
public sealed record PrefillBatchResponse
{
    public required string BatchId { get; init; }

    /// <summary>App id of the replica that ran the batch.</summary>
    public required string WorkerAppId { get; init; }

    public required IReadOnlyList<PrefillSequenceResult> Results { get; init; }
}
