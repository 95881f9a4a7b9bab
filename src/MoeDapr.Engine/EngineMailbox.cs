using System.Runtime.CompilerServices;
using System.Threading.Channels;
using MoeDapr.Engine.Scheduling;

namespace MoeDapr.Engine;

/// <summary>
/// The bounded queue of work posted to the engine thread, and the ways callers wait for it: plain calls, and calls on
/// memory the caller owns, which never return while the engine thread may still touch that memory.
/// </summary>
internal sealed class EngineMailbox(int capacity)
{
    private const int Pending = 0;
    private const int Running = 1;
    private const int Skipped = 2;
    private static readonly TimeSpan CallerMemoryCopyBound = TimeSpan.FromSeconds(30);
    private readonly Channel<Action<EngineCore>> _commands =
        Channel.CreateBounded<Action<EngineCore>>(new BoundedChannelOptions(capacity) { SingleReader = true });
    private volatile bool _closed;

    /// <summary>The engine thread's end of the queue.</summary>
    public ChannelReader<Action<EngineCore>> Reader => _commands.Reader;

    /// <summary>Refuses further work (shutdown); what is queued can still be read.</summary>
    public void Close()
    {
        _closed = true;
        _commands.Writer.TryComplete();
    }

    public Task<T> Invoke<T>(Func<EngineCore, T> work, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(core =>
        {
            try
            {
                completion.TrySetResult(work(core));
            }
            catch (Exception e)
            {
                completion.TrySetException(e);
            }
        });
        return completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Like <see cref="Invoke{T}"/> for work that reads or writes memory the caller owns (a staging buffer, a shared-memory
    /// mapping): a cancelled call must not return while the engine thread may still touch that memory, or the caller
    /// would free it under the copy. Pending work is marked skipped; work already running is waited for (it is one copy).
    /// </summary>
    public async Task<T> InvokeOnCallerMemory<T>(Func<EngineCore, T> work, CancellationToken cancellationToken)
    {
        var state = new StrongBox<int>(Pending);
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(core =>
        {
            if (Interlocked.CompareExchange(ref state.Value, Running, Pending) != Pending)
            {
                completion.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                completion.TrySetResult(work(core));
            }
            catch (Exception e)
            {
                completion.TrySetException(e);
            }
        });

        try
        {
            return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (Interlocked.CompareExchange(ref state.Value, Skipped, Pending) != Pending)
            {
                // The copy has started: let it finish before the caller can release the memory. A copy of even a
                // large payload takes well under a second; the bound only guards against a wedged engine thread.
                await ((Task)completion.Task).WaitAsync(CallerMemoryCopyBound, CancellationToken.None)
                    .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            throw;
        }
    }

    public void Post(Action<EngineCore> command)
    {
        ObjectDisposedException.ThrowIf(_closed, typeof(InferenceEngine));
        if (!_commands.Writer.TryWrite(command))
        {
            throw new EngineOverloadedException($"the engine queue is full ({capacity} requests; EngineOptions.MaxQueuedRequests)");
        }
    }
}
