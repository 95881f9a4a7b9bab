namespace MoeDapr.Router.Scheduling;

/// <summary>Requests dispatched per second over the last <see cref="WindowSeconds"/> seconds (one-second buckets). Thread-safe.</summary>
public sealed class DrainRateMeter(TimeProvider time)
{
    public const int WindowSeconds = 10;

    private readonly WindowedSums _dispatched = new(time, TimeSpan.FromSeconds(1), WindowSeconds);

    public void Record(int count = 1) => _dispatched.Add(count);

    public double PerSecond()
    {
        // Early on the window is not full yet: divide by the time actually observed (at least one second).
        var observed = Math.Clamp(_dispatched.Elapsed.TotalSeconds, 1, WindowSeconds);
        return _dispatched.Sums().A / observed;
    }
}
