namespace MoeDapr.Router.Workers;

/// <summary>
/// Work the router placed on a worker (a decode sequence or a prefill batch), counted in <see cref="WorkerRegistry"/>'s
/// load from the moment the lease is handed out until it is released. Disposal releases it, so a slot reserved on a
/// path that throws or is cancelled before the call runs cannot stay counted; only the first release counts.
/// </summary>
public sealed class WorkerLease : IAsyncDisposable
{
    private readonly Action<WorkerLease, bool> _release;
    private int _released;

    internal WorkerLease(string appId, int tokens, Action<WorkerLease, bool> release)
    {
        AppId = appId;
        Tokens = tokens;
        _release = release;
    }

    public string AppId { get; }

    /// <summary>Prompt tokens the work carries (part of the worker's load while held).</summary>
    public int Tokens { get; }

    /// <summary>Ends the lease; a failure (not a client's cancel) starts the worker's cool-down.</summary>
    public void Release(bool failed)
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _release(this, failed);
        }
    }

    /// <summary>Releases without a failure.</summary>
    public ValueTask DisposeAsync()
    {
        Release(failed: false);
        return ValueTask.CompletedTask;
    }
}
