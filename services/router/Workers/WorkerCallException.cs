using MoeDapr.Contracts;

namespace MoeDapr.Router.Workers;

/// <summary>A worker call that failed; <see cref="Code"/> is a <see cref="WorkerError"/> code.</summary>
public sealed class WorkerCallException(string appId, string code, string message, Exception? inner = null)
    : Exception($"{appId}: {message}", inner)
{
    public string AppId { get; } = appId;

    public string Code { get; } = code;

    /// <summary>Another worker may succeed (not an invalid request).</summary>
    public bool Retryable => Code != WorkerError.InvalidRequest;
}
