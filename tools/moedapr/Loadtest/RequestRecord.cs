using System.Text.Json.Serialization;

namespace MoeDapr.Cli.Loadtest;

/// <summary>How one request ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RequestOutcome>))]
public enum RequestOutcome
{
    /// <summary>Completed with a 2xx response and a whole body (or stream up to <c>[DONE]</c>).</summary>
    [JsonStringEnumMemberName("ok")]
    Ok,

    /// <summary>The server shed it: 429.</summary>
    [JsonStringEnumMemberName("rejected")]
    Rejected,

    /// <summary>The server gave up waiting: 503.</summary>
    [JsonStringEnumMemberName("timed_out")]
    TimedOut,

    /// <summary>Any other status, a broken connection or stream, or the client's own deadline.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>Never sent: the client's concurrency cap was reached when it arrived.</summary>
    [JsonStringEnumMemberName("dropped")]
    Dropped,
}

/// <summary>What the client saw of one request (times in milliseconds).</summary>
public sealed record CompletionResult
{
    public required RequestOutcome Outcome { get; init; }

    /// <summary>HTTP status, or null when no response came.</summary>
    public int? Status { get; init; }

    /// <summary>Why it failed, for <see cref="RequestOutcome.Failed"/>.</summary>
    public string? Error { get; init; }

    /// <summary>Send to first token (streaming only).</summary>
    public double? TtftMs { get; init; }

    /// <summary>Send to the end of the response (to the response headers for rejections).</summary>
    public double E2eMs { get; init; }

    /// <summary>Tokens generated: the server's <c>usage.completion_tokens</c> when given, else streamed text chunks.</summary>
    public int OutputTokens { get; init; }

    /// <summary>Gaps between consecutive streamed text chunks.</summary>
    public IReadOnlyList<double> ItlMs { get; init; } = [];

    /// <summary>
    /// Mean time per output token after the first: (e2e − TTFT) / (tokens − 1); null without streaming or with fewer
    /// than two tokens.
    /// </summary>
    public double? TpotMs => TtftMs is { } ttft && OutputTokens > 1 ? (E2eMs - ttft) / (OutputTokens - 1) : null;
}

/// <summary>One arrival of a run and how it ended.</summary>
/// <param name="Index">Arrival number, from 0.</param>
/// <param name="ScheduledMs">When the schedule wanted it sent, from the start of the run.</param>
/// <param name="SentMs">When it was sent (equal to or a little after <paramref name="ScheduledMs"/>).</param>
/// <param name="PromptWords">Prompt length in words.</param>
/// <param name="Result">The outcome and timings.</param>
public sealed record RequestRecord(int Index, double ScheduledMs, double SentMs, int PromptWords, CompletionResult Result);
