using MoeDapr.Contracts;

namespace MoeDapr.Router.Workers;

/// <summary>The router's calls to workers (Dapr service invocation in production, fakes in tests).</summary>
public interface IWorkerClient
{
    /// <summary>Runs a prefill batch. Throws <see cref="WorkerCallException"/> when the worker fails or refuses.</summary>
    Task<PrefillBatchResponse> PrefillAsync(string appId, PrefillBatchRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Opens a decode stream. Throws <see cref="WorkerCallException"/> when the call is refused; cancelling the token
    /// closes the call, which aborts the sequence on the worker.
    /// </summary>
    IAsyncEnumerable<DecodeStreamEvent> DecodeAsync(string appId, DecodeRequest request, CancellationToken cancellationToken);

    /// <summary>Best-effort abort of a sequence (in case closing the stream did not reach the worker).</summary>
    Task AbortAsync(string appId, string requestId, CancellationToken cancellationToken);

    /// <summary>Whether the app answers its readiness endpoint with success.</summary>
    Task<bool> IsReadyAsync(string appId, CancellationToken cancellationToken);
}
