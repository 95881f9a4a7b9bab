using System.Net;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>kv-transfer refused a control call (the HTTP status and the ProblemDetails title/detail it sent).</summary>
public class KvTransferException : Exception
{
    public KvTransferException()
    {
    }

    public KvTransferException(string message)
        : base(message)
    {
    }

    public KvTransferException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public KvTransferException(HttpStatusCode statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public HttpStatusCode? StatusCode { get; }
}

/// <summary>KV bytes that arrived short or did not match their checksum; they must not be used.</summary>
public sealed class KvTransferIntegrityException : KvTransferException
{
    public KvTransferIntegrityException()
    {
    }

    public KvTransferIntegrityException(string message)
        : base(message)
    {
    }

    public KvTransferIntegrityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
