namespace MoeDapr.Router.Scheduling;

/// <summary>Requests dispatched per second over the last <see cref="WindowSeconds"/> seconds (one-second buckets). Thread-safe.</summary>
public sealed class DrainRateMeter(TimeProvider time)
{
    public const int WindowSeconds = 10;

    private readonly Lock _lock = new();
    private readonly long[] _buckets = new long[WindowSeconds];
    private readonly long[] _bucketSecond = new long[WindowSeconds];
    private readonly long _start = time.GetTimestamp();

    public void Record(int count = 1)
    {
        var second = CurrentSecond();
        lock (_lock)
        {
            var i = (int)(second % WindowSeconds);
            if (_bucketSecond[i] != second)
            {
                _bucketSecond[i] = second;
                _buckets[i] = 0;
            }

            _buckets[i] += count;
        }
    }

    public double PerSecond()
    {
        var second = CurrentSecond();
        lock (_lock)
        {
            long total = 0;
            for (var i = 0; i < WindowSeconds; i++)
            {
                if (second - _bucketSecond[i] < WindowSeconds)
                {
                    total += _buckets[i];
                }
            }

            // Early on the window is not full yet: divide by the time actually observed (at least one second).
            var observed = Math.Clamp(time.GetElapsedTime(_start).TotalSeconds, 1, WindowSeconds);
            return total / observed;
        }
    }

    // Seconds since the meter started; bucket second 0 is never "current" before Record, so buckets start empty.
    private long CurrentSecond() => (long)time.GetElapsedTime(_start).TotalSeconds + WindowSeconds;
}
