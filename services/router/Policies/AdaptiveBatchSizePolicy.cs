using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Policies;

/// <summary>
/// Doubles the batch when the queue is long and the workers busy, halves it when the queue is short and the workers
/// idle, within [MinBatchSize, MaxBatchSize], at most once per AdaptInterval. Called from one thread (the dispatch loop).
/// </summary>
public sealed class AdaptiveBatchSizePolicy(IOptions<BatchingOptions> options, TimeProvider time) : IBatchSizePolicy
{
    private readonly BatchingOptions _options = options.Value;
    private int _size = options.Value.InitialBatchSize;
    private long? _lastChange;

    public string Name => PolicyNames.AdaptiveBatching;

    public int NextBatchSize(BatchSignal signal)
    {
        var now = time.GetTimestamp();
        if (_lastChange is { } last && time.GetElapsedTime(last, now) < _options.AdaptInterval)
        {
            return _size;
        }

        var next = _size;
        if (signal.QueuedRequests > _options.GrowQueueDepth && signal.Utilization > _options.GrowUtilization)
        {
            next = Math.Min(_size * 2, _options.MaxBatchSize);
        }
        else if (signal.QueuedRequests < _options.ShrinkQueueDepth && signal.Utilization < _options.ShrinkUtilization)
        {
            next = Math.Max(_size / 2, _options.MinBatchSize);
        }

        if (next != _size)
        {
            _size = next;
            _lastChange = now;
        }

        return _size;
    }
}
