using MoeDapr.Contracts;
using MoeDapr.Router.Options;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Generation;

/// <summary>
/// One decode call to one worker: its overall and idle deadlines, its event stream, and the lease on the worker's slot,
/// which closing the call releases (with the failure, if any, so the worker cools down).
/// </summary>
public sealed class DecodeCall
{
    private readonly IWorkerClient _client;
    private readonly WorkerLease _lease;
    private readonly DecodeRequest _request;
    private readonly WorkerOptions _options;
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _idle;
    private readonly CancellationTokenSource _call;
    private IAsyncEnumerator<DecodeStreamEvent>? _events;
    private int _closed;

    /// <summary>A call on the lease's worker, opened by the first <see cref="NextAsync"/>; it ends at its deadline, when it goes silent, or when the client goes.</summary>
    public DecodeCall(IWorkerClient client, WorkerLease lease, DecodeRequest request, WorkerOptions options, TimeProvider time, CancellationToken clientGone)
    {
        _client = client;
        _lease = lease;
        _request = request;
        _options = options;
        _deadline = new CancellationTokenSource(options.DecodeTimeout, time);
        _idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _call = CancellationTokenSource.CreateLinkedTokenSource(clientGone, _deadline.Token, _idle.Token);
    }

    public string AppId => _lease.AppId;

    /// <summary>The next event, or null when the stream ended; a stream silent past the idle deadline is a worker failure.</summary>
    public async Task<DecodeStreamEvent?> NextAsync(CancellationToken clientGone)
    {
        _events ??= _client.DecodeAsync(AppId, _request, _call.Token).GetAsyncEnumerator(_call.Token);
        _idle.CancelAfter(_options.DecodeIdleTimeout);
        try
        {
            return await _events.MoveNextAsync() ? _events.Current : null;
        }
        catch (OperationCanceledException) when (!clientGone.IsCancellationRequested)
        {
            throw new WorkerCallException(AppId, WorkerError.DeadlineExceeded, "decode stream went silent past its deadline");
        }
    }

    /// <summary>Cancels the call (which aborts the sequence on the worker) and releases its slot; only the first close counts.</summary>
    public async Task CloseAsync(bool failed)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        try
        {
            await _call.CancelAsync();
            if (_events is not null)
            {
                await _events.DisposeAsync();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WorkerCallException or HttpRequestException or IOException)
        {
            // The call is being torn down; its failure was already counted.
        }
        finally
        {
            _events = null;
            _lease.Release(failed);
            DisposeTokens();
        }
    }

    private void DisposeTokens()
    {
        _call.Dispose();
        _idle.Dispose();
        _deadline.Dispose();
    }
}
