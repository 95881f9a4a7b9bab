namespace MoeDapr.Router.Options;

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
