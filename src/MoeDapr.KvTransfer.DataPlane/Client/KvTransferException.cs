using System.Net;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>
/// kv-transfer refused a control call or a transfer, or its bytes failed their checks: <see cref="Reason"/> says which,
/// <see cref="StatusCode"/> is the HTTP status of a refused control call, the message is for people.
/// </summary>
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

    public KvTransferException(KvTransferErrorReason reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public KvTransferException(KvTransferErrorReason reason, HttpStatusCode statusCode, string message)
        : base(message)
    {
        Reason = reason;
        StatusCode = statusCode;
    }

    public KvTransferErrorReason Reason { get; }

    public HttpStatusCode? StatusCode { get; }

    /// <summary>The bytes arrived short or do not match their checksum: they must not be used.</summary>
    public bool IsIntegrityFailure => Reason is KvTransferErrorReason.ChecksumMismatch or KvTransferErrorReason.LengthMismatch;
}
