using Microsoft.Extensions.Options;

namespace MoeDapr.Router.Options;

/// <summary>The served model (<c>Model</c>, the section every MoeDapr service reads its checkpoint folder from).</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>The OpenAI <c>model</c> name clients must send; defaults to the checkpoint folder's name.</summary>
    public string? Name { get; set; }

    /// <summary>Hugging Face checkpoint folder (config.json, tokenizer.json) the workers serve.</summary>
    public string? Path { get; set; }

    /// <summary>Prompt plus output tokens at most; 0 takes <c>max_position_embeddings</c> from config.json.</summary>
    public int ContextLength { get; set; }
}

/// <summary>Waiting queue bounds and timeouts (<c>Router:Admission</c>).</summary>
public sealed class AdmissionOptions
{
    public const string Section = "Router:Admission";

    /// <summary><c>priority</c> (default: low shed first) or <c>fifo</c>.</summary>
    public string Policy { get; set; } = "priority";

    public int MaxQueuedRequests { get; set; } = 256;

    /// <summary>Sum of the prompt tokens of all waiting requests.</summary>
    public long MaxQueuedPromptTokens { get; set; } = 1 << 20;

    /// <summary>Fraction of either bound low-priority requests may fill; the rest is kept for normal and high.</summary>
    public double LowPriorityMaxFill { get; set; } = 0.8;

    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// SLO-aware admission: a request whose estimated wait (requests ahead of it ÷ the rate the queue drains while
    /// workers are busy) exceeds this is refused at once with 429. Set it to the TTFT objective minus the prefill
    /// time at capacity; zero turns the estimate off (only the count and token bounds then refuse).
    /// </summary>
    public TimeSpan TargetQueueDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// A request still waiting this long after it arrived is shed before dispatch (503 <c>queue_deadline</c>) instead
    /// of being served after its TTFT objective has passed; zero turns it off. The queue timeout still ends any longer wait.
    /// </summary>
    public TimeSpan DispatchDeadline { get; set; } = TimeSpan.FromMilliseconds(400);

    public int MinRetryAfterSeconds { get; set; } = 1;

    public int MaxRetryAfterSeconds { get; set; } = 60;
}

/// <summary>Prefill batch sizing (<c>Router:Batching</c>).</summary>
public sealed class BatchingOptions
{
    public const string Section = "Router:Batching";

    /// <summary><c>adaptive</c> (default) or <c>fixed</c>.</summary>
    public string Policy { get; set; } = "adaptive";

    public int InitialBatchSize { get; set; } = 8;

    /// <summary>
    /// Adaptive: the batch never shrinks below this. A batch takes only what is waiting (it never waits to fill), so a
    /// floor costs nothing at low load; without one, quiet periods shrink the batch to 1 and, with the router's in-flight
    /// limit per worker, cap prefill at a request or two per worker when load returns.
    /// </summary>
    public int MinBatchSize { get; set; } = 8;

    public int MaxBatchSize { get; set; } = 64;

    /// <summary>Prompt tokens per batch at most (a single longer prompt still goes alone).</summary>
    public int MaxBatchTokens { get; set; } = 16384;

    /// <summary>Adaptive: double when more than this many requests wait...</summary>
    public int GrowQueueDepth { get; set; } = 100;

    /// <summary>...and prefill utilization is above this.</summary>
    public double GrowUtilization { get; set; } = 0.8;

    /// <summary>Adaptive: halve when fewer than this many requests wait...</summary>
    public int ShrinkQueueDepth { get; set; } = 10;

    /// <summary>...and prefill utilization is below this.</summary>
    public double ShrinkUtilization { get; set; } = 0.5;

    /// <summary>Adaptive: at most one change per interval, so a change can show its effect first.</summary>
    public TimeSpan AdaptInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Prefill batches a worker may run at once (the router queues the rest).</summary>
    public int MaxInFlightBatchesPerWorker { get; set; } = 2;
}

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

/// <summary>Incident settings (<c>Router:Degraded</c>); <c>POST /admin/degraded</c> switches them at run time.</summary>
public sealed class DegradedOptions
{
    public const string Section = "Router:Degraded";

    public bool Enabled { get; set; }

    public int MaxBatchSize { get; set; } = 16;

    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>Start-time checks whose messages name the setting to fix.</summary>
public sealed class RouterOptionsValidator :
    IValidateOptions<ModelOptions>, IValidateOptions<AdmissionOptions>, IValidateOptions<BatchingOptions>,
    IValidateOptions<WorkerOptions>, IValidateOptions<DegradedOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        var errors = new List<string>();
        Check(errors, options.ContextLength >= 0, $"{ModelOptions.Section}:ContextLength must be 0 (from config.json) or positive");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, AdmissionOptions options)
    {
        var errors = new List<string>();
        var s = AdmissionOptions.Section;
        Check(errors, Policies.PolicyNames.Admission.Contains(options.Policy), $"{s}:Policy must be one of {string.Join(", ", Policies.PolicyNames.Admission)}");
        Check(errors, options.MaxQueuedRequests >= 1, $"{s}:MaxQueuedRequests must be at least 1");
        Check(errors, options.MaxQueuedPromptTokens >= 1, $"{s}:MaxQueuedPromptTokens must be at least 1");
        Check(errors, options.LowPriorityMaxFill is > 0 and <= 1, $"{s}:LowPriorityMaxFill must be in (0, 1]");
        Check(errors, options.QueueTimeout > TimeSpan.Zero, $"{s}:QueueTimeout must be positive");
        Check(errors, options.TargetQueueDelay >= TimeSpan.Zero, $"{s}:TargetQueueDelay must not be negative (0 turns the wait estimate off)");
        Check(errors, options.DispatchDeadline >= TimeSpan.Zero, $"{s}:DispatchDeadline must not be negative (0 turns deadline shedding off)");
        Check(errors, options.DispatchDeadline == TimeSpan.Zero || options.TargetQueueDelay <= options.DispatchDeadline,
            $"{s}:TargetQueueDelay must not exceed {s}:DispatchDeadline (admitted requests would be shed before dispatch)");
        Check(errors, options.MinRetryAfterSeconds >= 1 && options.MaxRetryAfterSeconds >= options.MinRetryAfterSeconds,
            $"{s}:MinRetryAfterSeconds must be at least 1 and not above {s}:MaxRetryAfterSeconds");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, BatchingOptions options)
    {
        var errors = new List<string>();
        var s = BatchingOptions.Section;
        Check(errors, Policies.PolicyNames.Batching.Contains(options.Policy), $"{s}:Policy must be one of {string.Join(", ", Policies.PolicyNames.Batching)}");
        Check(errors, options.MinBatchSize >= 1, $"{s}:MinBatchSize must be at least 1");
        Check(errors, options.MaxBatchSize >= options.MinBatchSize, $"{s}:MaxBatchSize must be at least {s}:MinBatchSize");
        Check(errors, options.InitialBatchSize >= options.MinBatchSize && options.InitialBatchSize <= options.MaxBatchSize,
            $"{s}:InitialBatchSize must lie between {s}:MinBatchSize and {s}:MaxBatchSize");
        Check(errors, options.MaxBatchTokens >= 1, $"{s}:MaxBatchTokens must be at least 1");
        Check(errors, options.GrowQueueDepth > options.ShrinkQueueDepth, $"{s}:GrowQueueDepth must be above {s}:ShrinkQueueDepth");
        Check(errors, options.GrowUtilization is >= 0 and <= 1 && options.ShrinkUtilization is >= 0 and <= 1,
            $"{s}:GrowUtilization and {s}:ShrinkUtilization must be in [0, 1]");
        Check(errors, options.AdaptInterval >= TimeSpan.Zero, $"{s}:AdaptInterval must not be negative");
        Check(errors, options.MaxInFlightBatchesPerWorker >= 1, $"{s}:MaxInFlightBatchesPerWorker must be at least 1");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var errors = new List<string>();
        var s = WorkerOptions.Section;
        Check(errors, Policies.PolicyNames.Prefill.Contains(options.PrefillPolicy), $"{s}:PrefillPolicy must be one of {string.Join(", ", Policies.PolicyNames.Prefill)}");
        Check(errors, Policies.PolicyNames.Decode.Contains(options.DecodePolicy), $"{s}:DecodePolicy must be one of {string.Join(", ", Policies.PolicyNames.Decode)}");
        Check(errors, options.StaleAfter > TimeSpan.Zero, $"{s}:StaleAfter must be positive");
        Check(errors, options.FailureCooldown >= TimeSpan.Zero, $"{s}:FailureCooldown must not be negative");
        Check(errors, options.SaturatedKvUsage is > 0 and <= 1, $"{s}:SaturatedKvUsage must be in (0, 1]");
        Check(errors, options.MaxAttempts >= 1, $"{s}:MaxAttempts must be at least 1");
        Check(errors, options.PrefillTimeout > TimeSpan.Zero, $"{s}:PrefillTimeout must be positive");
        Check(errors, options.DecodeIdleTimeout > TimeSpan.Zero, $"{s}:DecodeIdleTimeout must be positive");
        Check(errors, options.DecodeTimeout >= options.DecodeIdleTimeout, $"{s}:DecodeTimeout must be at least {s}:DecodeIdleTimeout");
        Check(errors, options.LocalPrefillMaxTokens >= 0, $"{s}:LocalPrefillMaxTokens must not be negative");
        Check(errors, options.LocalPrefillCachedFraction is > 0 and <= 1, $"{s}:LocalPrefillCachedFraction must be in (0, 1]");
        Check(errors, options.PrefixOverlapWeight >= 0, $"{s}:PrefixOverlapWeight must not be negative");
        Check(errors, options.BlockSize >= 1, $"{s}:BlockSize must be at least 1");
        Check(errors, !string.IsNullOrWhiteSpace(options.KvTransferAppId), $"{s}:KvTransferAppId must be set");
        Check(errors, options.KvTransferProbeInterval > TimeSpan.Zero, $"{s}:KvTransferProbeInterval must be positive");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, DegradedOptions options)
    {
        var errors = new List<string>();
        Check(errors, options.MaxBatchSize >= 1, $"{DegradedOptions.Section}:MaxBatchSize must be at least 1");
        Check(errors, options.QueueTimeout > TimeSpan.Zero, $"{DegradedOptions.Section}:QueueTimeout must be positive");
        return Result(errors);
    }

    private static void Check(List<string> errors, bool condition, string message)
    {
        if (!condition)
        {
            errors.Add(message);
        }
    }

    private static ValidateOptionsResult Result(List<string> errors) =>
        errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
