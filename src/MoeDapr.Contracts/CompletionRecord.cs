namespace MoeDapr.Contracts;

/// <summary>One finished request, published on <see cref="PubSub.CompletionsTopic"/> for accounting and dashboards.</summary>
public sealed record CompletionRecord
{
    public required string RequestId { get; init; }

    /// <summary>App id of the publisher (<c>router</c> or a decode replica).</summary>
    public required string Source { get; init; }

    public string? Model { get; init; }

    /// <summary>One of <see cref="ServingPaths"/>.</summary>
    public string? Path { get; init; }

    public string? PrefillAppId { get; init; }

    public string? DecodeAppId { get; init; }

    public RequestPriority Priority { get; init; } = RequestPriority.Normal;

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    public int CachedTokens { get; init; }

    /// <summary>Null when the request failed or was aborted before a finish reason existed.</summary>
    public FinishReason? FinishReason { get; init; }

    /// <summary>Set when the request failed: an OpenAI error type or a <see cref="WorkerError"/> code.</summary>
    public string? Error { get; init; }

    public double QueueTimeMs { get; init; }

    public double TimeToFirstTokenMs { get; init; }

    public double EndToEndMs { get; init; }

    public required long FinishedUnixMs { get; init; }
}
