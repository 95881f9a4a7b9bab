namespace MoeDapr.Router.Scheduling;

/// <summary>
/// How fast the queue drains while it is backlogged (requests waited because no worker could take them): dispatches
/// counted only over those periods, divided by their length. Unlike the plain dispatch rate this measures what the
/// workers can take, not what clients happen to send, so it is the rate a new request's wait can be estimated from.
/// Recent <see cref="Window"/> only, in buckets of <see cref="BucketLength"/>. Thread-safe.
/// </summary>
public sealed class ServiceRateMeter(TimeProvider time)
{
    public static readonly TimeSpan BucketLength = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    /// <summary>Backlogged time the window must hold before the rate is trusted (a batch or two at capacity).</summary>
    public static readonly TimeSpan MinObserved = TimeSpan.FromMilliseconds(300);

    private static readonly int Buckets = (int)(Window / BucketLength);
    private readonly Lock _lock = new();
    private readonly double[] _seconds = new double[Buckets];
    private readonly long[] _dispatched = new long[Buckets];
    private readonly long[] _bucketIndex = new long[Buckets];
    private readonly long _start = time.GetTimestamp();

    /// <summary>Notes <paramref name="backlogged"/> of waiting with work queued, during which <paramref name="dispatched"/> requests left.</summary>
    public void Record(TimeSpan backlogged, int dispatched)
    {
        var index = CurrentBucket();
        lock (_lock)
        {
            var i = (int)(index % Buckets);
            if (_bucketIndex[i] != index)
            {
                _bucketIndex[i] = index;
                _seconds[i] = 0;
                _dispatched[i] = 0;
            }

            _seconds[i] += backlogged.TotalSeconds;
            _dispatched[i] += dispatched;
        }
    }

    /// <summary>Requests per second the backlogged queue drained at (0: nothing left it); null when too little backlog was seen to tell.</summary>
    public double? PerSecond()
    {
        var index = CurrentBucket();
        lock (_lock)
        {
            double seconds = 0;
            long dispatched = 0;
            for (var i = 0; i < Buckets; i++)
            {
                if (index - _bucketIndex[i] < Buckets)
                {
                    seconds += _seconds[i];
                    dispatched += _dispatched[i];
                }
            }

            return seconds >= MinObserved.TotalSeconds ? dispatched / seconds : null;
        }
    }

    // Offset by a full window so that the zeroed bucket indexes of a new meter are never "current".
    private long CurrentBucket() => (long)(time.GetElapsedTime(_start) / BucketLength) + Buckets;
}
