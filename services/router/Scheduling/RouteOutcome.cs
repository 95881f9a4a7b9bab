using MoeDapr.Contracts;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Scheduling;

/// <summary>Where the dispatcher sent a request, or why it did not.</summary>
public sealed record RouteOutcome
{
    /// <summary>One of <see cref="ServingPaths"/>; null when the request was shed or failed.</summary>
    public string? Path { get; init; }

    public string? PrefillAppId { get; init; }

    /// <summary>
    /// The decode worker to call (retries may pick another), leased when the request was routed so that a burst cannot
    /// overrun a worker before its streams open; whoever takes the outcome owns the lease and disposes it.
    /// </summary>
    public WorkerLease? Decode { get; init; }

    /// <summary>The decode worker to call first.</summary>
    public string? DecodeAppId => Decode?.AppId;

    /// <summary>Disaggregated path: the token prefill sampled.</summary>
    public TokenSample? FirstToken { get; init; }

    public string? KvHandle { get; init; }

    public int CachedTokens { get; init; }

    /// <summary>Set when the first token already ended the sequence (no decode call needed).</summary>
    public FinishReason? FinishReason { get; init; }

    /// <summary>Shed from the queue to make room for a higher-priority request: answer 429 with <see cref="RetryAfter"/>.</summary>
    public bool Shed { get; init; }

    public TimeSpan RetryAfter { get; init; }

    /// <summary>Still waiting at its dispatch deadline: shed before any worker saw it (answer 503).</summary>
    public bool Expired { get; init; }

    /// <summary>Set when no worker could serve the request.</summary>
    public string? Error { get; init; }
}
