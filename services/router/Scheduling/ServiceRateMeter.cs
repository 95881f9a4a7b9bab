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

    private readonly WindowedSums _sums = new(time, BucketLength, (int)(Window / BucketLength));

    /// <summary>Notes <paramref name="backlogged"/> of waiting with work queued, during which <paramref name="dispatched"/> requests left.</summary>
    public void Record(TimeSpan backlogged, int dispatched) => _sums.Add(backlogged.TotalSeconds, dispatched);

    /// <summary>Requests per second the backlogged queue drained at (0: nothing left it); null when too little backlog was seen to tell.</summary>
    public double? PerSecond()
    {
        var (seconds, dispatched) = _sums.Sums();
        return seconds >= MinObserved.TotalSeconds ? dispatched / seconds : null;
    }
}
