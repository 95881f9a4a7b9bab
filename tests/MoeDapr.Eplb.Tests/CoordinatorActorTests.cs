extern alias sidecar;

using System.Collections.Concurrent;
using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MoeDapr.Contracts;
using MoeDapr.Contracts.Eplb;
using MoeDapr.Decode.Eplb;
using MoeDapr.Eplb.Tests.Infrastructure;
using sidecar::MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Eplb.Tests;

/// <summary>The coordinator actor behind the local Dapr sidecar, hosted by a real Kestrel app that is stopped and started again.</summary>
public sealed class CoordinatorActorTests
{
    private const string Model = "skewed-moe";

    // 2 MoE layers, 4 experts, 6 slots on 2 ranks. The initial placement [0 1 2 | 3 0 1] already replicates experts 0 and 1,
    // so the hot experts here are 2 (layer 0) and 3 (layer 1): balancedness 0.625 before any plan.
    private static ExpertLoadWindow Window(string instance, long sequence, long steps, long[][] tokens) => new()
    {
        Model = Model,
        AppId = "decode",
        InstanceId = instance,
        Sequence = sequence,
        StartUnixMs = 0,
        EndUnixMs = sequence,
        Steps = steps,
        Ranks = 2,
        Slots = 6,
        Experts = 4,
        Layers = [0, 1],
        Tokens = tokens,
    };

    private static readonly long[][] Skewed = [[100, 100, 700, 100], [100, 100, 100, 700]];

    [Fact]
    public async Task Plan_HostRestarts_SurvivesInActorStateAndIsNotRedecided()
    {
        var sidecarPort = FreePort.Next();
        var grpcPort = FreePort.Next();
        var appPort = FreePort.Next();
        var published = new ConcurrentQueue<ExpertPlacementPlan>();
        using var components = new ComponentsFolder();
        var app = await ActorHost.StartAsync(appPort, sidecarPort, grpcPort, published);
        await using var sidecar = await SidecarHost.StartAsync(
            new SidecarOptions { AppId = "decode", AppPort = appPort, HttpPort = sidecarPort, GrpcPort = grpcPort, ResourcesPaths = { components.Path } },
            new SidecarEnvironment());
        await sidecar.WaitReadyAsync(Poll.Timeout);
        var coordinator = new CoordinatorClient(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DAPR_HTTP_ENDPOINT"] = sidecar.HttpEndpoint,
        }).Build()).For(Model);

        // Below RebalanceFrequency (100 steps) but far below the balancedness threshold: an early decision.
        var plan = await coordinator.ReportWindowAsync(Window("replica-a", 1, 40, Skewed));
        Assert.NotNull(plan);
        Assert.Equal(1, plan.Version);
        Assert.Equal("threshold", plan.Reason);
        Assert.True(plan.BalancednessAfter > plan.BalancednessBefore + 0.01);
        Assert.Equal(0.625, plan.BalancednessBefore, 9);
        Assert.True(plan.Phy2Log[0].Count(e => e == 2) >= 2, "the hottest expert of layer 0 gets a replica");
        Assert.True(plan.Phy2Log[1].Count(e => e == 3) >= 2, "the hottest expert of layer 1 gets a replica");
        await Poll.UntilAsync(() => published.Any(p => p.Version == 1), Poll.Timeout, "the plan on the plans topic");

        // The host goes away and comes back (same port, same sidecar): the plan is read back from actor state.
        await app.DisposeAsync();
        app = await ActorHost.StartAsync(appPort, sidecarPort, grpcPort, published);
        await using (app)
        {
            var after = await coordinator.GetPlanAsync();
            Assert.NotNull(after);
            Assert.Equal(plan.Version, after.Version);
            Assert.Equal(plan.Phy2Log, after.Phy2Log);

            // The same skew again: the plan in use already balances it, so nothing new is published.
            Assert.Null(await coordinator.ReportWindowAsync(Window("replica-a", 2, 40, Skewed)));
            // A duplicate delivery of an old window is ignored.
            Assert.Null(await coordinator.ReportWindowAsync(Window("replica-a", 1, 40, Skewed)));
            Assert.Equal(1, (await coordinator.GetPlanAsync())!.Version);

            // The load moves to experts 0 and 1: the next decision (threshold) replaces the plan.
            var moved = await coordinator.ReportWindowAsync(Window("replica-b", 1, 40, [[900, 100, 100, 100], [100, 900, 100, 100]]));
            Assert.NotNull(moved);
            Assert.Equal(2, moved.Version);
        }
    }

    /// <summary>A Kestrel app hosting the coordinator actor and a subscriber that records published plans.</summary>
    private sealed class ActorHost : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ActorHost(WebApplication app) => _app = app;

        public static async Task<ActorHost> StartAsync(int appPort, int sidecarPort, int grpcPort, ConcurrentQueue<ExpertPlacementPlan> published)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = typeof(CoordinatorActorTests).Assembly.GetName().Name });
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{appPort}");
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["DAPR_HTTP_ENDPOINT"] = $"http://127.0.0.1:{sidecarPort}",
                ["Eplb:Enabled"] = "true",
                ["Eplb:RebalanceFrequency"] = "100",
                ["Eplb:BalancednessThreshold"] = "0.9",
            });
            builder.Services.AddSingleton(TimeProvider.System);
            builder.Services.AddOptions<EplbOptions>().BindConfiguration(EplbOptions.Section);
            builder.Services.AddDaprClient(dapr => dapr.UseHttpEndpoint($"http://127.0.0.1:{sidecarPort}").UseGrpcEndpoint($"http://127.0.0.1:{grpcPort}"));
            builder.Services.AddActors(options =>
            {
                options.Actors.RegisterActor<EplbCoordinatorActor>();
                options.HttpEndpoint = $"http://127.0.0.1:{sidecarPort}";
                options.UseJsonSerialization = true;
            });
            var app = builder.Build();
            app.UseCloudEvents();
            app.MapSubscribeHandler();
            app.MapActorsHandlers();
            app.MapPost("/plans", (ExpertPlacementPlan plan) =>
            {
                published.Enqueue(plan);
                return Microsoft.AspNetCore.Http.Results.Ok();
            }).WithTopic(PubSub.Name, EplbTopics.Plans);
            await app.StartAsync();
            return new ActorHost(app);
        }

        public async ValueTask DisposeAsync()
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
        }
    }
}
