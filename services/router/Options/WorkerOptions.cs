namespace MoeDapr.Router.Options;

/// <summary>Worker discovery, choice, deadlines and conditional disaggregation (<c>Router:Workers</c>).</summary>
public sealed class WorkerOptions
{
    public const string Section = "Router:Workers";

    /// <summary><c>prefix-aware</c> (default) or <c>power-of-two</c>.</summary>
    public string PrefillPolicy { get; set; } = "prefix-aware";

    /// <summary><c>power-of-two</c> (default) or <c>least-loaded</c>.</summary>
    public string DecodePolicy { get; set; } = "power-of-two";

    /// <summary>A worker whose last snapshot is older than this is excluded.</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a worker that failed a call or answered "saturated" gets no new work.</summary>
    public TimeSpan FailureCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Decode counts as saturated at or above this KV usage.</summary>
    public double SaturatedKvUsage { get; set; } = 0.95;

    /// <summary>Workers tried per request step (prefill batch, decode stream) before giving up.</summary>
    public int MaxAttempts { get; set; } = 2;

    public TimeSpan PrefillTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest silence on a decode stream (first token included) before the call is abandoned.</summary>
    public TimeSpan DecodeIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whole decode call at most.</summary>
    public TimeSpan DecodeTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Prompts of at most this many tokens are prefilled on the decode worker.</summary>
    public int LocalPrefillMaxTokens { get; set; } = 32;

    /// <summary>Prompts whose blocks are at least this fraction in the chosen decode worker's cache are prefilled there.</summary>
    public double LocalPrefillCachedFraction { get; set; } = 0.8;

    /// <summary>Prefix-aware choice: cost of one block to compute, against one block of queued load.</summary>
    public double PrefixOverlapWeight { get; set; } = 1.0;

    /// <summary>Tokens per prefix block when snapshots do not say.</summary>
    public int BlockSize { get; set; } = 16;

    /// <summary>Disaggregation needs kv-transfer; its app id (probed at <c>health/ready</c>).</summary>
    public string KvTransferAppId { get; set; } = Contracts.AppIds.KvTransfer;

    public TimeSpan KvTransferProbeInterval { get; set; } = TimeSpan.FromSeconds(2);
}
