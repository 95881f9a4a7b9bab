using System.Collections.Concurrent;
using Dapr;
using Microsoft.AspNetCore.Http;

namespace MoeDapr.Sidecar.Tests.Processes;

/// <summary>At-least-once delivery with pubsub.redis across crashes of the subscriber and of the sidecar process.</summary>
public sealed class RedisDurabilityTests(RedisServer redis) : IClassFixture<RedisServer>
{
    public sealed record Job(string Id);

    private static DaprClient ClientFor(int httpPort, int grpcPort) =>
        new DaprClientBuilder().UseHttpEndpoint($"http://127.0.0.1:{httpPort}").UseGrpcEndpoint($"http://127.0.0.1:{grpcPort}").Build();

    [Fact]
    public async Task Subscriber_KilledMidMessage_GetsMessageAgainAfterRestart()
    {
        using var components = Components.Create("redis", redis.Host);
        var registry = ProcessArgs.NewRegistry(components);
        var appPort = FreePort.Next();
        var (http, grpc) = (FreePort.Next(), FreePort.Next());
        var entered = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hang = new TaskCompletionSource();
        var redelivered = new ConcurrentQueue<string>();

        var firstApp = await TestApp.StartAsync(null, app =>
        {
            app.UseCloudEvents();
            app.MapSubscribeHandler();
            app.MapPost("/jobs", [Topic("pubsub", "jobs")] async (Job job) =>
            {
                entered.TrySetResult(job.Id);
                await hang.Task;
                return Results.Ok();
            });
        }, appPort);
        var firstSidecar = await Sidecars.StartProcessAsync(ProcessArgs.For("worker", appPort, http, grpc, components.Path, registry));
        using (var client = ClientFor(http, grpc))
        {
            await client.WaitForSidecarAsync(new CancellationTokenSource(Sidecars.Timeout).Token);
            await client.PublishEventAsync("pubsub", "jobs", new Job("job-1"));
        }

        Assert.Equal("job-1", await entered.Task.WaitAsync(Sidecars.Timeout));

        // Crash both mid-message: the entry stays pending in the consumer group.
        firstSidecar.Kill();
        hang.TrySetResult();
        await firstApp.DisposeAsync();
        await firstSidecar.DisposeAsync();

        await using var secondApp = await TestApp.StartAsync(null, app =>
        {
            app.UseCloudEvents();
            app.MapSubscribeHandler();
            app.MapPost("/jobs", [Topic("pubsub", "jobs")] (Job job) =>
            {
                redelivered.Enqueue(job.Id);
                return Results.Ok();
            });
        }, appPort);
        await using var secondSidecar = await Sidecars.StartProcessAsync(ProcessArgs.For("worker", appPort, http, grpc, components.Path, registry));

        await Poll.UntilAsync(() => redelivered.Contains("job-1"), Sidecars.Timeout, "job-1 to be redelivered");
    }

    [Fact]
    public async Task Publish_WhileSubscriberSidecarRestarts_NothingIsLost()
    {
        using var components = Components.Create("redis", redis.Host);
        var registry = ProcessArgs.NewRegistry(components);
        var received = new ConcurrentDictionary<string, int>();
        await using var app = await TestApp.StartAsync(null, web =>
        {
            web.UseCloudEvents();
            web.MapSubscribeHandler();
            web.MapPost("/ledger", [Topic("pubsub", "ledger")] (Job job) =>
            {
                received.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
                return Results.Ok();
            });
        });
        await using var publisher = await Sidecars.StartAsync("publisher", components);
        using var publish = publisher.CreateClient();
        var (http, grpc) = (FreePort.Next(), FreePort.Next());

        var subscriber = await Sidecars.StartProcessAsync(ProcessArgs.For("ledger-app", app.Port, http, grpc, components.Path, registry));
        for (var i = 0; i < 10; i++)
        {
            await publish.PublishEventAsync("pubsub", "ledger", new Job("e" + i));
        }

        await Poll.UntilAsync(() => received.Count >= 5, Sidecars.Timeout, "the first events");
        subscriber.Kill();
        await subscriber.DisposeAsync();
        for (var i = 10; i < 30; i++)
        {
            await publish.PublishEventAsync("pubsub", "ledger", new Job("e" + i));
        }

        await using var restarted = await Sidecars.StartProcessAsync(ProcessArgs.For("ledger-app", app.Port, http, grpc, components.Path, registry));

        await Poll.UntilAsync(() => received.Count == 30, Sidecars.Timeout, "all 30 events");
        Assert.Equal(Enumerable.Range(0, 30).Select(i => "e" + i).Order(), received.Keys.Order());
    }
}
