namespace MoeDapr.Router.Options;

/// <summary>
/// Bounds on what one client may send (<c>Router:Limits</c>): body size, stop strings, logit bias, token-id arrays,
/// and the Kestrel limits that keep slow or idle clients from holding connections.
/// </summary>
public sealed class RequestLimitsOptions
{
    public const string Section = "Router:Limits";

    /// <summary>Bodies above this get 413 (a full context of token ids as JSON stays far below 8 MiB).</summary>
    public int MaxRequestBodyBytes { get; set; } = 8 << 20;

    public int MaxStopStrings { get; set; } = 16;

    /// <summary>Characters per stop string: a stop longer than any output the context allows cannot match.</summary>
    public int MaxStopStringLength { get; set; } = 512;

    public int MaxStopTokenIds { get; set; } = 64;

    /// <summary>Entries of <c>logit_bias</c> (OpenAI accepts up to 300).</summary>
    public int MaxLogitBiasEntries { get; set; } = 300;

    /// <summary>Kestrel's minimum request body rate in bytes per second (0 turns it off).</summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>How long a body may stay below the minimum rate before the connection is closed.</summary>
    public TimeSpan MinRequestBodyGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Time a client has to send all request headers.</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Idle keep-alive connections are closed after this.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Open connections at most (every streaming client holds one); 0 = no limit.</summary>
    public long MaxConcurrentConnections { get; set; } = 4096;
}
