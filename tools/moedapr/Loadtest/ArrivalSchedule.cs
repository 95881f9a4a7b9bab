namespace MoeDapr.Cli.Loadtest;

/// <summary>When requests arrive in an open-loop test: independent of how fast the server answers.</summary>
public static class ArrivalSchedule
{
    /// <summary>
    /// Poisson arrivals at <paramref name="qps"/> per second: exponential gaps with mean 1 / qps, as offsets from the
    /// start, all before <paramref name="duration"/>.
    /// </summary>
    public static IReadOnlyList<TimeSpan> Poisson(double qps, TimeSpan duration, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(qps);
        ArgumentNullException.ThrowIfNull(random);
        var arrivals = new List<TimeSpan>((int)Math.Min(qps * duration.TotalSeconds * 1.1, LoadtestSettings.MaxArrivals) + 16);
        double seconds = 0;
        while (true)
        {
            // Inverse-CDF sampling of Exp(qps); 1 − u keeps the argument of the log in (0, 1].
            seconds += -Math.Log(1 - random.NextDouble()) / qps;
            if (seconds >= duration.TotalSeconds)
            {
                return arrivals;
            }

            arrivals.Add(TimeSpan.FromSeconds(seconds));
        }
    }
}
