using System.Collections.Concurrent;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Access;

/// <summary>
/// One token bucket per API key: <c>Burst</c> requests at once, refilled at <c>RequestsPerSecond</c>. Time comes from the
/// injected <see cref="TimeProvider"/>, so tests move it by hand.
/// </summary>
public sealed class ApiKeyRateLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Takes one request from <paramref name="key"/>'s bucket; returns null when allowed, else how long until one is.</summary>
    public TimeSpan? TryAcquire(ApiKeyOptions key)
    {
        if (key.RequestsPerSecond <= 0)
        {
            return null;
        }

        var bucket = _buckets.GetOrAdd(key.Name, _ => new Bucket(key.Burst, time.GetTimestamp()));
        lock (bucket)
        {
            var now = time.GetTimestamp();
            var elapsed = time.GetElapsedTime(bucket.UpdatedAt, now).TotalSeconds;
            bucket.Tokens = Math.Min(key.Burst, bucket.Tokens + (elapsed * key.RequestsPerSecond));
            bucket.UpdatedAt = now;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                return null;
            }

            return TimeSpan.FromSeconds((1 - bucket.Tokens) / key.RequestsPerSecond);
        }
    }

    private sealed class Bucket(double tokens, long updatedAt)
    {
        public double Tokens { get; set; } = tokens;

        public long UpdatedAt { get; set; } = updatedAt;
    }
}
