namespace MoeDapr.Cli.Loadtest;

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
