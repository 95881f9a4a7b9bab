namespace MoeDapr.Router.Scheduling;

/// <summary>
/// Two running sums over the recent <c>buckets × bucketLength</c> of time, kept in fixed time buckets that are
/// reused as the window slides: the storage behind the router's rate meters. Thread-safe.
/// </summary>
public sealed class WindowedSums(TimeProvider time, TimeSpan bucketLength, int buckets)
{
    private readonly Lock _lock = new();
    private readonly double[] _a = new double[buckets];
    private readonly double[] _b = new double[buckets];
    private readonly long[] _bucketIndex = new long[buckets];
    private readonly long _start = time.GetTimestamp();

    /// <summary>Time since the sums started.</summary>
    public TimeSpan Elapsed => time.GetElapsedTime(_start);

    /// <summary>Adds to the current bucket.</summary>
    public void Add(double a, double b = 0)
    {
        var index = CurrentBucket();
        lock (_lock)
        {
            var i = (int)(index % buckets);
            if (_bucketIndex[i] != index)
            {
                _bucketIndex[i] = index;
                _a[i] = 0;
                _b[i] = 0;
            }

            _a[i] += a;
            _b[i] += b;
        }
    }

    /// <summary>The sums over the buckets still inside the window.</summary>
    public (double A, double B) Sums()
    {
        var index = CurrentBucket();
        lock (_lock)
        {
            double a = 0;
            double b = 0;
            for (var i = 0; i < buckets; i++)
            {
                if (index - _bucketIndex[i] < buckets)
                {
                    a += _a[i];
                    b += _b[i];
                }
            }

            return (a, b);
        }
    }

    // Offset by a full window so that the zeroed bucket indexes of new sums are never "current".
    private long CurrentBucket() => (long)(Elapsed / bucketLength) + buckets;
}
