using System.Text.Json.Serialization;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>
/// Why kv-transfer refused a control call or a data-plane transfer. The control API sends it as the
/// <c>reason</c> member of its ProblemDetails (<see cref="KvTransferRoutes.ReasonMember"/>) beside the HTTP status, so a
/// caller branches on the reason, never on the text.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<KvTransferErrorReason>))]
public enum KvTransferErrorReason
{
    /// <summary>Not classified: an answer without a reason and with a status that names none (a sidecar or proxy error).</summary>
    Unknown,

    /// <summary>400: a malformed handle, size, layout, checksum or prefix hash; retrying the same call will not help.</summary>
    InvalidRequest,

    /// <summary>404: no such allocation (released, expired with its lease, or never made).</summary>
    NotFound,

    /// <summary>The allocation exists but cannot be read: still being written, or failed at commit.</summary>
    NotCommitted,

    /// <summary>409: the allocation is not open for writing (already committed or failed), or a transfer into it is in flight.</summary>
    WrongState,

    /// <summary>507: no free staging range of the requested size.</summary>
    Capacity,

    /// <summary>429: the number of live leases is at its limit (<c>KvTransfer:MaxLeases</c>).</summary>
    TooManyLeases,

    /// <summary>The socket plane is at its connection limit (<c>KvTransfer:SocketMaxConnections</c>).</summary>
    Busy,

    /// <summary>422 or a socket reply: fewer or more bytes than allocated arrived (a short or cut-off transfer).</summary>
    LengthMismatch,

    /// <summary>422 or a socket reply, or a read: the bytes do not hash to the checksum they were committed with.</summary>
    ChecksumMismatch,

    /// <summary>422: the payload's header is unreadable or does not match the allocated layout.</summary>
    HeaderMismatch,

    /// <summary>A data-plane transfer did not finish within its deadline.</summary>
    Timeout,

    /// <summary>kv-transfer's answer broke the protocol (empty body, no checksum, no shared-memory path, a closed connection).</summary>
    Protocol,
}
