namespace MoeDapr.Decode;

/// <summary>Log messages of the decode worker; event ids 200-299.</summary>
internal static partial class Log
{
    [LoggerMessage(202, LogLevel.Warning, "Request {RequestId}: KV payload {Handle} refused: {Reason}")]
    public static partial void KvCorrupted(ILogger logger, string requestId, string handle, string reason);

    [LoggerMessage(203, LogLevel.Warning, "Request {RequestId}: KV import of {Handle} failed")]
    public static partial void KvImportFailed(ILogger logger, string requestId, string handle, Exception error);

    [LoggerMessage(204, LogLevel.Debug, "Releasing KV payload {Handle} in kv-transfer failed: {Reason}")]
    public static partial void KvReleaseFailed(ILogger logger, string handle, string reason);

    [LoggerMessage(205, LogLevel.Warning, "Publishing on {Topic} failed: {Reason}")]
    public static partial void PublishFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(208, LogLevel.Error, "Request {RequestId} failed")]
    public static partial void RequestFailed(ILogger logger, string requestId, Exception error);
}
