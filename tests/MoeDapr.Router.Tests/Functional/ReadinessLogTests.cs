using Microsoft.Extensions.Diagnostics.HealthChecks;
using MoeDapr.Router.Diagnostics;

namespace MoeDapr.Router.Tests.Functional;

public sealed class ReadinessLogTests
{
    [Fact]
    public async Task CheckHealth_RepeatedProbes_LogEachTransitionOnceAtInformation()
    {
        using var factory = new RouterFactory();
        using var client = factory.CreateClient();
        var logger = new ListLogger<RouterReadinessCheck>();
        var check = new RouterReadinessCheck(factory.Registry, logger);
        var context = new HealthCheckContext();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(context)).Status);
        }

        factory.Announce(AppIds.Decode, WorkerRole.Decode);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
        }

        Assert.Equal(2, logger.Entries.Count);
        Assert.All(logger.Entries, e => Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Information, e.Level));
        Assert.Contains("Unhealthy", logger.Entries[0].Message);
        Assert.Contains("Healthy", logger.Entries[1].Message);
    }
}
