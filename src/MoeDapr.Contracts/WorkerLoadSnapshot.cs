namespace MoeDapr.Contracts;

/// <summary>
/// What a worker replica publishes on <see cref="PubSub.WorkerLoadTopic"/> every <see cref="IntervalMs"/>. The router
/// discovers workers from these, and treats a replica whose last snapshot is older than a few intervals as gone.
/// </summary>
public sealed record WorkerLoadSnapshot
{
    /// <summary>Dapr app id the router invokes for this replica (e.g. <c>prefill-2</c>).</summary>
    public required string AppId { get; init; }

    public required WorkerRole Role { get; init; }

    /// <summary>Random id chosen at process start: a new value means the replica restarted (its cache is empty).</summary>
    public required string InstanceId { get; init; }

    /// <summary>Counts up from 1 per instance; lets receivers drop reordered snapshots.</summary>
    public required long Sequence { get; init; }

    public required long TimestampUnixMs { get; init; }

    /// <summary>Publishing period in milliseconds.</summary>
    public int IntervalMs { get; init; } = 1000;

    /// <summary>Served model name (the OpenAI <c>model</c>).</summary>
    public string? Model { get; init; }

    /// <summary>False while warming up, draining or broken: send no new work.</summary>
    public bool Accepting { get; init; } = true;

    /// <summary>Requests (prefill: sequences; decode: sequences waiting for a batch slot) not yet started.</summary>
    public int QueuedRequests { get; init; }

    /// <summary>Prompt tokens of the queued requests.</summary>
    public long QueuedTokens { get; init; }

    /// <summary>Sequences in flight (decode: in the continuous batch; prefill: in the running batch).</summary>
    public int RunningSequences { get; init; }

    /// <summary>Batch slots; 0 when unbounded or unknown.</summary>
    public int MaxRunningSequences { get; init; }

    public int KvBlocksUsed { get; init; }

    public int KvBlocksTotal { get; init; }

    /// <summary>Fraction of the last interval the engine was busy, in [0, 1].</summary>
    public double Utilization { get; init; }

    /// <summary>Prefill: prompt tokens per second; decode: output tokens per second (last interval).</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>Tokens per KV block (the <see cref="CachedBlockHashes"/> granularity).</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>
    /// Prefix-block hashes (MoeDapr.Model.PrefixBlockHash, 32 hex digits) whose KV the replica holds; at most a few
    /// thousand, most recently used first. Each snapshot replaces the previous set; null means "not reported".
    /// </summary>
    public IReadOnlyList<string>? CachedBlockHashes { get; init; }

    /// <summary>KV usage in [0, 1]; 0 when the total is unknown.</summary>
    public double KvUsage => KvBlocksTotal > 0 ? (double)KvBlocksUsed / KvBlocksTotal : 0;
}
