using System.Collections.Concurrent;
using Dapr;
using Microsoft.AspNetCore.Http;

namespace MoeDapr.Sidecar.Tests.Conformance;

/// <summary>A Dapr.AspNetCore subscriber app ([Topic], MapSubscribeHandler, UseCloudEvents) behind the sidecar.</summary>
public sealed class PubSubTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly ConcurrentQueue<(string Route, Order Order)> _received = new();
    private readonly ConcurrentDictionary<string, int> _attempts = new();

    public sealed record Order(string Id, int Quantity);

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    private Task<TestApp> StartSubscriberAsync() => TestApp.StartAsync(null, app =>
    {
        app.UseCloudEvents();
        app.MapSubscribeHandler();
        app.MapPost("/orders", [Topic("pubsub", "orders")] (Order order) =>
        {
            _received.Enqueue(("orders", order));
            return Results.Ok();
        });
        app.MapPost("/flaky", [Topic("pubsub", "flaky")] (Order order) =>
        {
            // RETRY the first two deliveries of each order, then accept it.
            var attempt = _attempts.AddOrUpdate(order.Id, 1, (_, n) => n + 1);
            if (attempt <= 2)
            {
                return Results.Json(new { status = "RETRY" });
            }

            _received.Enqueue(("flaky", order));
            return Results.Json(new { status = "SUCCESS" });
        });
        app.MapPost("/dropping", [Topic("pubsub", "dropping", "dropping-dead", false)] (Order order) =>
        {
            _attempts.AddOrUpdate("drop:" + order.Id, 1, (_, n) => n + 1);
            return Results.Json(new { status = "DROP" });
        });
        app.MapPost("/failing", [Topic("pubsub", "failing", "failing-dead", false)] (Order order) =>
        {
            _attempts.AddOrUpdate("fail:" + order.Id, 1, (_, n) => n + 1);
            return Results.StatusCode(500);
        });
        app.MapPost("/dead-letters", [Topic("pubsub", "dropping-dead")] (Order order) =>
        {
            _received.Enqueue(("dropping-dead", order));
            return Results.Ok();
        });
        app.MapPost("/failing-dead-letters", [Topic("pubsub", "failing-dead")] (Order order) =>
        {
            _received.Enqueue(("failing-dead", order));
            return Results.Ok();
        });
    });

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task PublishEvent_SubscribedTopic_AppReceivesEachEventOnce(string kind)
    {
        await using var app = await StartSubscriberAsync();
        using var components = Components.Create(kind, _redis.Host);
        await using var sidecar = await Sidecars.StartAsync("orders-app", components, app.Port);
        using var client = sidecar.CreateClient();

        for (var i = 0; i < 20; i++)
        {
            await client.PublishEventAsync("pubsub", "orders", new Order("o" + i, i));
        }

        await Poll.UntilAsync(() => _received.Count(r => r.Route == "orders") >= 20, Sidecars.Timeout, "20 orders");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "o" + i).Order(), _received.Select(r => r.Order.Id).Order());
        Assert.All(_received, r => Assert.Equal(int.Parse(r.Order.Id[1..], System.Globalization.CultureInfo.InvariantCulture), r.Order.Quantity));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Subscriber_AnswersRetry_EventIsRedelivered(string kind)
    {
        await using var app = await StartSubscriberAsync();
        using var components = Components.Create(kind, _redis.Host);
        await using var sidecar = await Sidecars.StartAsync("flaky-app", components, app.Port);
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "flaky", new Order("f1", 1));

        await Poll.UntilAsync(() => _received.Any(r => r.Route == "flaky"), Sidecars.Timeout, "the retried order");
        Assert.Equal(3, _attempts["f1"]);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Subscriber_AnswersDrop_EventGoesToDeadLetterTopicOnce(string kind)
    {
        await using var app = await StartSubscriberAsync();
        using var components = Components.Create(kind, _redis.Host);
        await using var sidecar = await Sidecars.StartAsync("drop-app", components, app.Port);
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "dropping", new Order("d1", 1));

        await Poll.UntilAsync(() => _received.Any(r => r.Route == "dropping-dead"), Sidecars.Timeout, "the dead letter");
        Assert.Equal(1, _attempts["drop:d1"]);
        Assert.Equal(new Order("d1", 1), _received.Single(r => r.Route == "dropping-dead").Order);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task Subscriber_KeepsFailing_RetriesPerResiliencyThenDeadLetters(string kind)
    {
        await using var app = await StartSubscriberAsync();
        using var components = Components.Create(kind, _redis.Host, maxRetries: 2);
        await using var sidecar = await Sidecars.StartAsync("fail-app", components, app.Port);
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "failing", new Order("x1", 1));

        await Poll.UntilAsync(() => _received.Any(r => r.Route == "failing-dead"), Sidecars.Timeout, "the dead letter");

        // One delivery plus maxRetries (2) retries from the Resiliency policy.
        Assert.Equal(3, _attempts["fail:x1"]);
    }

    [Fact]
    public async Task DeclarativeSubscription_WithMatchRule_RoutesByEventField()
    {
        var routed = new ConcurrentQueue<(string Path, Order Order)>();
        await using var app = await TestApp.StartAsync(null, web =>
        {
            web.UseCloudEvents();
            web.MapPost("/big", (Order order) => routed.Enqueue(("big", order)));
            web.MapPost("/other", (Order order) => routed.Enqueue(("other", order)));
        });
        using var components = Components.Create("memory");
        components.Write("subscription.yaml", """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: sizes
            spec:
              pubsubname: pubsub
              topic: sizes
              routes:
                rules:
                  - match: event.data.id == "big-one"
                    path: /big
                default: /other
            scopes:
              - sizes-app
            """);
        await using var sidecar = await Sidecars.StartAsync("sizes-app", components, app.Port);
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "sizes", new Order("big-one", 100));
        await client.PublishEventAsync("pubsub", "sizes", new Order("small", 1));

        await Poll.UntilAsync(() => routed.Count >= 2, Sidecars.Timeout, "two routed events");
        Assert.Equal("big", routed.Single(r => r.Order.Id == "big-one").Path);
        Assert.Equal("other", routed.Single(r => r.Order.Id == "small").Path);
    }
}
