namespace MoeDapr.Contracts;

/// <summary>A machine-readable error a worker returns for one sequence or a whole call.</summary>
public sealed record WorkerError(string Code, string Message)
{
    /// <summary>The worker is out of capacity; try another one later (the router marks it saturated).</summary>
    public const string Saturated = "saturated";

    /// <summary>The KV handle is unknown or its lease expired.</summary>
    public const string KvNotFound = "kv_not_found";

    /// <summary>The request is malformed; retrying elsewhere will not help.</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>The deadline passed before the work finished.</summary>
    public const string DeadlineExceeded = "deadline_exceeded";

    /// <summary>Anything else (engine failure, transfer failure); another worker may succeed.</summary>
    public const string Internal = "internal";
}
