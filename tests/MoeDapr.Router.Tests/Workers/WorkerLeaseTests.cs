using MoeDapr.Router.Workers;
using static Microsoft.Extensions.Options.Options;
using static MoeDapr.Router.Tests.Infrastructure.Snapshots;

namespace MoeDapr.Router.Tests.Workers;

/// <summary>Work counted on a worker from the lease to its release, and only once.</summary>
public sealed class WorkerLeaseTests
{
    private readonly WorkerRegistry _registry = new(new ManualTimeProvider(), Create(Settings));

    private int InFlight(string appId) => _registry.List().Single(w => w.AppId == appId).InFlight;

    [Fact]
    public async Task Lease_OnAWorkerWithOneSlot_ItGetsNoMoreWorkUntilTheLeaseIsDisposed()
    {
        _registry.Apply(Snapshot("d1", WorkerRole.Decode, maxRunning: 1));

        await using (_registry.Lease("d1", 12))
        {
            Assert.Empty(_registry.DecodeCandidates());
            Assert.Empty(_registry.DecodeLoads());
        }

        Assert.Equal(["d1"], _registry.DecodeCandidates().Select(c => c.AppId));
    }

    [Fact]
    public async Task DisposeAsync_Twice_ReleasesOnce()
    {
        _registry.Apply(Snapshot("d1", WorkerRole.Decode));
        var first = _registry.Lease("d1", 12);
        await using var second = _registry.Lease("d1", 12);

        await first.DisposeAsync();
        first.Release(failed: true);

        Assert.Equal(1, InFlight("d1"));
        Assert.Equal(1, _registry.Count(WorkerRole.Decode)); // the late failure did not start a cool-down either
    }

    [Fact]
    public void Release_Failed_TheWorkerCoolsDown()
    {
        _registry.Apply(Snapshot("d1", WorkerRole.Decode));

        _registry.Lease("d1", 12).Release(failed: true);

        Assert.Equal(0, InFlight("d1"));
        Assert.Empty(_registry.DecodeCandidates());
    }
}
