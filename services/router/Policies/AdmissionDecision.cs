namespace MoeDapr.Router.Policies;

/// <summary>Admit, admit after shedding lower-priority waiters, or reject with a retry hint.</summary>
public sealed record AdmissionDecision
{
    public bool Admitted { get; private init; }

    /// <summary>
    /// When admitted by shedding: drop waiting requests of lower priority (lowest class and newest first) until at most
    /// <see cref="ShedToCount"/> requests and <see cref="ShedToTokens"/> prompt tokens remain; null when nothing is shed.
    /// </summary>
    public int? ShedToCount { get; private init; }

    public long? ShedToTokens { get; private init; }

    /// <summary>When rejected: a metric label (<c>queue_full</c>, <c>queue_tokens_full</c>, <c>queue_delay</c>, <c>low_priority_shed</c>).</summary>
    public string? Reason { get; private init; }

    public TimeSpan RetryAfter { get; private init; }

    public static AdmissionDecision Admit() => new() { Admitted = true };

    public static AdmissionDecision AdmitByShedding(int toCount, long toTokens) =>
        new() { Admitted = true, ShedToCount = toCount, ShedToTokens = toTokens };

    public static AdmissionDecision Reject(string reason, TimeSpan retryAfter) => new() { Reason = reason, RetryAfter = retryAfter };
}
