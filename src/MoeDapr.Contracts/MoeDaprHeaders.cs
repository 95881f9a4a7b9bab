namespace MoeDapr.Contracts;

/// <summary>HTTP headers MoeDapr adds to calls between services (and the client-facing priority header).</summary>
public static class MoeDaprHeaders
{
    /// <summary>The request id the router assigned (also the OpenAI response id without its prefix).</summary>
    public const string RequestId = "x-moedapr-request-id";

    /// <summary><c>high</c>, <c>normal</c> or <c>low</c>; clients may set it instead of the <c>priority</c> body field.</summary>
    public const string Priority = "x-moedapr-priority";

    /// <summary>Unix time in milliseconds after which the caller no longer wants the answer.</summary>
    public const string Deadline = "x-moedapr-deadline";
}
