using System.Collections.Concurrent;

namespace MoeDapr.Decode;

/// <summary>Decode calls in flight by request id, so <c>decode/abort</c> can end one that the caller could not close.</summary>
public sealed class DecodeSessions
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _active = new(StringComparer.Ordinal);

    public int Count => _active.Count;

    /// <summary>Registers a call; false when the id is already running.</summary>
    public bool TryAdd(string requestId, CancellationTokenSource aborted) => _active.TryAdd(requestId, aborted);

    public void Remove(string requestId, CancellationTokenSource aborted) =>
        _active.TryRemove(new KeyValuePair<string, CancellationTokenSource>(requestId, aborted));

    /// <summary>Cancels the call; false when no call of that id is running.</summary>
    public bool TryAbort(string requestId)
    {
        if (!_active.TryGetValue(requestId, out var aborted))
        {
            return false;
        }

        try
        {
            aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished between the lookup and the cancel.
        }

        return true;
    }
}
