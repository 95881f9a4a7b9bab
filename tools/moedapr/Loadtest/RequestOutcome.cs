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
