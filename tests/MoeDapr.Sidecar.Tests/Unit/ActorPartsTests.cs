using System.Text.Json.Nodes;
using MoeDapr.Sidecar.Actors;

namespace MoeDapr.Sidecar.Tests.Unit;

/// <summary>The actor runtime's pure parts: the app's actor config, schedules and the placement hash.</summary>
public sealed class ActorPartsTests
{
    [Fact]
    public void HostConfig_FullBody_ReadsEveryField()
    {
        using var body = JsonDocument.Parse("""
            {"entities":["A","","B"],"actorIdleTimeout":"1m","actorScanInterval":"5s","reentrancy":{"enabled":true,"maxStackDepth":4}}
            """);

        var config = ActorHostConfig.Parse(body.RootElement);

        Assert.Equal(["A", "B"], config.HostedTypes);
        Assert.Equal(TimeSpan.FromMinutes(1), config.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), config.ScanInterval);
        Assert.True(config.ReentrancyEnabled);
        Assert.Equal(4, config.MaxStackDepth);
    }

    [Fact]
    public void HostConfig_EmptyOrUnparseable_KeepsDaprdDefaults()
    {
        using var body = JsonDocument.Parse("""{"actorIdleTimeout":"soon","reentrancy":{"maxStackDepth":0}}""");

        var config = ActorHostConfig.Parse(body.RootElement);

        Assert.Empty(config.HostedTypes);
        Assert.Equal(ActorHostConfig.None.IdleTimeout, config.IdleTimeout);
        Assert.Equal(ActorHostConfig.None.ScanInterval, config.ScanInterval);
        Assert.False(config.ReentrancyEnabled);
        Assert.Equal(ActorHostConfig.None.MaxStackDepth, config.MaxStackDepth);
    }

    [Fact]
    public void Schedule_DueAndRepeatedPeriod_Parse()
    {
        var schedule = ActorSchedule.Parse(new JsonObject { ["dueTime"] = "2s", ["period"] = "R3/PT1S" }, "timer");

        Assert.Equal(TimeSpan.FromSeconds(2), schedule.Due);
        Assert.Equal(TimeSpan.FromSeconds(1), schedule.Period);
        Assert.Equal(3, schedule.Repetitions);
        Assert.False(schedule.IsOneShot);
    }

    [Fact]
    public void Schedule_NoPeriod_IsOneShot()
    {
        Assert.True(ActorSchedule.Parse(new JsonObject { ["dueTime"] = "1s" }, "reminder").IsOneShot);
    }

    [Theory]
    [InlineData("dueTime", "due time")]
    [InlineData("period", "period")]
    public void Schedule_BadDuration_Is400NamingTheField(string field, string words)
    {
        var ex = Assert.Throws<ActorException>(() => ActorSchedule.Parse(new JsonObject { [field] = "soon" }, "reminder"));

        Assert.Equal(400, ex.StatusCode);
        Assert.Contains($"reminder {words}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PlacementHash_IsStableAndSpreadsIdsOverHosts()
    {
        Assert.Equal(ActorPlacement.Hash("h1|T|7"), ActorPlacement.Hash("h1|T|7"));
        var wins = Enumerable.Range(0, 200)
            .Select(i => new[] { "h1", "h2" }.MaxBy(h => ActorPlacement.Hash($"{h}|T|{i}")))
            .Count(h => h == "h1");

        // Both hosts win a fair share; a hash without the finalizer gives one host nearly every id.
        Assert.InRange(wins, 60, 140);
    }
}
