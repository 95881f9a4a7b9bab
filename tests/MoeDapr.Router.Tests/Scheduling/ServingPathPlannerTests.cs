using MoeDapr.Router.Scheduling;
using MoeDapr.Router.Workers;
using static Microsoft.Extensions.Options.Options;
using static MoeDapr.Router.Tests.Infrastructure.Snapshots;

namespace MoeDapr.Router.Tests.Scheduling;

/// <summary>Conditional disaggregation.</summary>
public sealed class ServingPathPlannerTests
{
    [Fact]
    public void Plan_PrefillWorkerGoesStaleAndReturns_SwitchesToAggregatedAndBack()
    {
        var time = new ManualTimeProvider();
        var registry = new WorkerRegistry(time, Create(Settings));
        var planner = new ServingPathPlanner(Create(Settings));
        string Plan() => planner.Plan(promptTokens: 200, promptBlocks: 12, decodeCachedBlocks: 0, registry.DisaggregationAvailable);
        registry.Apply(Snapshot("p", WorkerRole.Prefill));
        registry.ReportKvTransferProbe(true);
        Assert.Equal(ServingPaths.Disaggregated, Plan());

        time.Advance(TimeSpan.FromSeconds(4)); // prefill stopped publishing (and the kv-transfer probe is old too)
        Assert.Equal(ServingPaths.Aggregated, Plan());

        registry.Apply(Snapshot("p", WorkerRole.Prefill, sequence: 2));
        registry.ReportKvTransferProbe(true);
        Assert.Equal(ServingPaths.Disaggregated, Plan());

        registry.ReportKvTransferProbe(false); // kv-transfer down: no remote prefill either
        Assert.Equal(ServingPaths.Aggregated, Plan());
    }

    [Theory]
    [InlineData(20, 1, 0, ServingPaths.LocalPrefill)] // short prompt
    [InlineData(200, 12, 11, ServingPaths.LocalPrefill)] // 92% in decode's cache
    [InlineData(200, 12, 6, ServingPaths.Disaggregated)] // half cached: prefill remotely
    public void Plan_ShortOrCachedPrompts_PrefillOnDecode(int tokens, int blocks, int cached, string expected)
    {
        var planner = new ServingPathPlanner(Create(Settings));

        Assert.Equal(expected, planner.Plan(tokens, blocks, cached, disaggregationAvailable: true));
    }
}
