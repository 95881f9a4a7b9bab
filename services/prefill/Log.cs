namespace MoeDapr.Prefill;

/// <summary>Log messages of the prefill worker; event ids 100-199.</summary>
internal static partial class Log
{
    [LoggerMessage(102, LogLevel.Debug, "Batch {BatchId}: {Sequences} sequences, {PromptTokens} prompt tokens, {CachedBlocks} cached blocks")]
    public static partial void BatchDone(ILogger logger, string batchId, int sequences, long promptTokens, long cachedBlocks);

    [LoggerMessage(103, LogLevel.Warning, "KV export of {RequestId} failed")]
    public static partial void ExportFailed(ILogger logger, string requestId, Exception error);

    [LoggerMessage(104, LogLevel.Warning, "Publishing the load snapshot failed: {Reason}")]
    public static partial void PublishFailed(ILogger logger, string reason);

    [LoggerMessage(105, LogLevel.Information, "Batch {BatchId} dropped: {Reason}")]
    public static partial void BatchDropped(ILogger logger, string batchId, string reason);
}
