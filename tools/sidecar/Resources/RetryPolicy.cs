namespace MoeDapr.Sidecar.Resources;

/// <summary>A named retry policy of a Resiliency resource.</summary>
public sealed record RetryPolicy(string Name, bool Exponential, TimeSpan Duration, TimeSpan MaxInterval, int MaxRetries)
{
    /// <summary>Delay before retry number attempt (1-based); exponential doubles from Duration up to MaxInterval.</summary>
    public TimeSpan DelayFor(int attempt)
    {
        if (!Exponential)
        {
            return Duration;
        }

        var factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(Duration.Ticks * factor, MaxInterval.Ticks));
        return delay;
    }

    /// <summary>True when another retry is allowed after attempt failed ones; negative MaxRetries means unlimited.</summary>
    public bool Allows(int attempt) => MaxRetries < 0 || attempt <= MaxRetries;
}
