namespace MoeDapr.KvTransfer;

/// <summary>kv-transfer's log messages; event ids 4000-4099.</summary>
internal static partial class Log
{
    [LoggerMessage(4000, LogLevel.Information, "Staging memory ready: {Capacity} bytes, shared file {Path}")]
    public static partial void StagingReady(ILogger logger, long capacity, string? path);

    [LoggerMessage(4001, LogLevel.Information, "Removed stale staging file {Path}")]
    public static partial void StaleStagingRemoved(ILogger logger, string path);

    [LoggerMessage(4002, LogLevel.Debug, "Allocated {Handle}: {Bytes} bytes for {Requester} on the {Plane} plane")]
    public static partial void Allocated(ILogger logger, string handle, long bytes, string requester, string plane);

    [LoggerMessage(4003, LogLevel.Warning, "Allocation of {Bytes} bytes for {Requester} refused: {Reason}")]
    public static partial void AllocationRefused(ILogger logger, long bytes, string requester, string reason);

    [LoggerMessage(4004, LogLevel.Debug, "Committed {Handle}: {Bytes} bytes, {Blocks} prefix blocks indexed")]
    public static partial void Committed(ILogger logger, string handle, long bytes, int blocks);

    [LoggerMessage(4005, LogLevel.Warning, "KV payload {Handle} rejected ({Reason}): {Detail}")]
    public static partial void TransferRejected(ILogger logger, string handle, string reason, string detail);

    [LoggerMessage(4006, LogLevel.Information, "Lease of {Handle} ({Requester}, {State}) expired; its staging was freed")]
    public static partial void LeaseExpired(ILogger logger, string handle, string requester, string state);

    [LoggerMessage(4007, LogLevel.Information, "Socket data plane listening on {EndPoint}, advertised as {Host}")]
    public static partial void SocketListening(ILogger logger, string endPoint, string host);

    [LoggerMessage(4008, LogLevel.Warning, "Socket data-plane connection failed")]
    public static partial void SocketConnectionFailed(ILogger logger, Exception exception);
}
