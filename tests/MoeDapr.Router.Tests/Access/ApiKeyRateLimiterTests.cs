using MoeDapr.Router.Access;
using MoeDapr.Router.Options;
using MoeDapr.Router.Tests.Infrastructure;

namespace MoeDapr.Router.Tests.Access;

public sealed class ApiKeyRateLimiterTests
{
    [Fact]
    public void TryAcquire_BurstSpent_WaitsForTheNextTokenAtTheSustainedRate()
    {
        var time = new ManualTimeProvider();
        var limiter = new ApiKeyRateLimiter(time);
        var key = new ApiKeyOptions { Key = "k", Name = "n", RequestsPerSecond = 4, Burst = 3 };

        var allowed = Enumerable.Range(0, 3).Select(_ => limiter.TryAcquire(key)).ToList();
        var refused = limiter.TryAcquire(key);
        time.Advance(TimeSpan.FromSeconds(0.25));
        var refilled = limiter.TryAcquire(key);
        time.Advance(TimeSpan.FromHours(1));
        var afterIdle = Enumerable.Range(0, 4).Select(_ => limiter.TryAcquire(key)).ToList();

        Assert.All(allowed, Assert.Null);
        Assert.Equal(TimeSpan.FromSeconds(0.25), refused);
        Assert.Null(refilled);
        Assert.Equal(3, afterIdle.Count(wait => wait is null)); // idle time refills up to the burst, no further
    }

    [Fact]
    public void TryAcquire_UnlimitedKey_IsNeverRefused()
    {
        var limiter = new ApiKeyRateLimiter(new ManualTimeProvider());
        var key = new ApiKeyOptions { Key = "k", Name = "n", RequestsPerSecond = 0 };

        Assert.All(Enumerable.Range(0, 1000).Select(_ => limiter.TryAcquire(key)), Assert.Null);
    }
}
