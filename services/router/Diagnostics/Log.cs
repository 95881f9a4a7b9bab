using Microsoft.Extensions.Logging;

namespace MoeDapr.Router.Diagnostics;

/// <summary>The router's log messages; event ids 1xxx.</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "Serving model {Model} (context {ContextLength} tokens) with admission {Admission}, batching {Batching}, prefill choice {Prefill}, decode choice {Decode}")]
    public static partial void Started(ILogger logger, string model, int contextLength, string admission, string batching, string prefill, string decode);

    [LoggerMessage(1002, LogLevel.Information, "Worker {AppId} ({Role}) joined")]
    public static partial void WorkerJoined(ILogger logger, string appId, string role);

    [LoggerMessage(1003, LogLevel.Warning, "Prefill batch {BatchId} failed on {AppId} (attempt {Attempt}): {Error}")]
    public static partial void PrefillFailed(ILogger logger, string batchId, string appId, int attempt, string error);

    [LoggerMessage(1004, LogLevel.Warning, "Decode of {RequestId} failed on {AppId} (attempt {Attempt}): {Error}")]
    public static partial void DecodeFailed(ILogger logger, string requestId, string appId, int attempt, string error);

    [LoggerMessage(1005, LogLevel.Information, "Prefill batch size {Old} -> {New} (queued {Queued}, utilization {Utilization:F2})")]
    public static partial void BatchSizeChanged(ILogger logger, int old, int @new, int queued, double utilization);

    [LoggerMessage(1006, LogLevel.Warning, "Degraded mode {State} through the admin endpoint")]
    public static partial void DegradedSwitched(ILogger logger, string state);

    [LoggerMessage(1007, LogLevel.Information, "Serving path switched: disaggregated prefill {State}")]
    public static partial void DisaggregationSwitched(ILogger logger, string state);

    [LoggerMessage(1008, LogLevel.Warning, "Publishing the completion record of {RequestId} failed: {Error}")]
    public static partial void CompletionPublishFailed(ILogger logger, string requestId, string error);

    [LoggerMessage(1009, LogLevel.Error, "Dispatcher step failed")]
    public static partial void DispatcherFailed(ILogger logger, Exception exception);

    [LoggerMessage(1011, LogLevel.Warning, "Shedding load: {Count} requests refused in the last {Seconds:F0} s ({Waiting} waiting, draining {Rate:F1} req/s)")]
    public static partial void Shedding(ILogger logger, long count, double seconds, int waiting, double rate);

    [LoggerMessage(1010, LogLevel.Debug, "Abort of {RequestId} on {AppId} failed: {Error}")]
    public static partial void AbortFailed(ILogger logger, string requestId, string appId, string error);

    [LoggerMessage(1012, LogLevel.Warning, "Requests to {Route} carry the field '{Field}', which this server ignores (logged once per field)")]
    public static partial void UnknownField(ILogger logger, string field, string route);

    [LoggerMessage(1013, LogLevel.Information, "Readiness: {Status} ({Description})")]
    public static partial void ReadinessChanged(ILogger logger, string status, string description);

    [LoggerMessage(1020, LogLevel.Information, "Client API keys required: {Count} configured")]
    public static partial void ClientKeysRequired(ILogger logger, int count);

    [LoggerMessage(1021, LogLevel.Warning, "No {Setting} configured: the client API is open to anyone who can reach the port")]
    public static partial void ClientApiOpen(ILogger logger, string setting);

    [LoggerMessage(1022, LogLevel.Information, "Admin routes answer only on port {Port}")]
    public static partial void AdminListener(ILogger logger, int port);
}
