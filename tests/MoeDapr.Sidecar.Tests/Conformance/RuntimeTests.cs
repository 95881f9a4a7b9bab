using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;

namespace MoeDapr.Sidecar.Tests.Conformance;

/// <summary>Metadata, app health, the envelope an app receives, and actor reentrancy.</summary>
public sealed class RuntimeTests
{
    [Fact]
    public async Task GetMetadata_ThroughDaprClient_ListsIdComponentsAndSubscriptions()
    {
        await using var app = await TestApp.StartAsync(null, web =>
            web.MapGet("/dapr/subscribe", () => Results.Text("""[{"pubsubName":"pubsub","topic":"t1","route":"in","deadLetterTopic":"t1-dead"}]""", "application/json")));
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("meta-app", components, app.Port);
        using var client = sidecar.CreateClient();

        var metadata = await client.GetMetadataAsync();

        Assert.Equal("meta-app", metadata.Id);
        Assert.Equal(["pubsub.in-memory", "state.in-memory"], metadata.Components.Select(c => c.Type).Order());
        using var http = new HttpClient();
        var subscription = Assert.Single((await http.GetFromJsonAsync<JsonElement>($"{sidecar.HttpEndpoint}/v1.0/metadata")).GetProperty("subscriptions").EnumerateArray());
        Assert.Equal("t1", subscription.GetProperty("topic").GetString());
        Assert.Equal("t1-dead", subscription.GetProperty("deadLetterTopic").GetString());
        Assert.Equal("/in", Assert.Single(subscription.GetProperty("rules").EnumerateArray()).GetProperty("path").GetString());
    }

    [Fact]
    public async Task AppHealthCheck_AppStartsFailing_MetadataShowsUnhealthy()
    {
        var healthy = true;
        await using var app = await TestApp.StartAsync(null, web =>
            web.MapGet("/healthz", () => healthy ? Results.Ok() : Results.StatusCode(503)));
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("health-app", components, app.Port, o =>
        {
            o.EnableAppHealthCheck = true;
            o.AppHealthProbeInterval = TimeSpan.FromMilliseconds(50);
            o.AppHealthThreshold = 2;
        });
        using var http = new HttpClient();

        async Task<bool> Healthy()
        {
            var metadata = await http.GetFromJsonAsync<JsonElement>($"{sidecar.HttpEndpoint}/v1.0/metadata");
            return metadata.GetProperty("appConnectionProperties").GetProperty("health").GetProperty("healthy").GetBoolean();
        }

        Assert.True(await Healthy());
        healthy = false;
        await Poll.UntilAsync(async () => !await Healthy(), Sidecars.Timeout, "the app to be reported unhealthy");
        healthy = true;
        await Poll.UntilAsync(Healthy, Sidecars.Timeout, "the app to be reported healthy again");
    }

    [Fact]
    public async Task Delivery_RawEnvelope_IsDaprdCloudEvent()
    {
        var envelopes = new ConcurrentQueue<(string ContentType, JsonElement Body)>();
        await using var app = await TestApp.StartAsync(null, web =>
        {
            web.MapGet("/dapr/subscribe", () => Results.Text("""[{"pubsubname":"pubsub","topic":"raw","route":"/raw"}]""", "application/json"));
            web.MapPost("/raw", async (HttpContext context) =>
            {
                envelopes.Enqueue((context.Request.ContentType ?? "", await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body)));
                return Results.Ok();
            });
        });
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("envelope-app", components, app.Port);
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "raw", new { Id = "e1", Count = 2 });

        await Poll.UntilAsync(() => !envelopes.IsEmpty, Sidecars.Timeout, "the event");
        var (contentType, envelope) = envelopes.Single();
        Assert.Equal("application/cloudevents+json", contentType);
        Assert.Equal("1.0", envelope.GetProperty("specversion").GetString());
        Assert.Equal("com.dapr.event.sent", envelope.GetProperty("type").GetString());
        Assert.Equal("envelope-app", envelope.GetProperty("source").GetString());
        Assert.Equal("raw", envelope.GetProperty("topic").GetString());
        Assert.Equal("pubsub", envelope.GetProperty("pubsubname").GetString());
        Assert.Equal("application/json", envelope.GetProperty("datacontenttype").GetString());
        Assert.Equal("e1", envelope.GetProperty("data").GetProperty("id").GetString());
        Assert.StartsWith("00-", envelope.GetProperty("traceparent").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ActorCall_WithCurrentReentrancyId_EntersWhileTurnIsHeld()
    {
        // A hand-written actor host: the first call re-enters the same actor through the sidecar with the id it was given.
        var sidecarPort = FreePort.Next();
        var innerEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await TestApp.StartAsync(null, web =>
        {
            web.MapGet("/dapr/config", () => Results.Json(new { entities = new[] { "Loop" }, reentrancy = new { enabled = true } }));
            web.MapPut("/actors/Loop/{id}/method/outer", async (HttpContext context, string id) =>
            {
                using var http = new HttpClient();
                using var request = new HttpRequestMessage(HttpMethod.Put, $"http://127.0.0.1:{sidecarPort}/v1.0/actors/Loop/{id}/method/inner");
                request.Headers.Add("Dapr-Reentrancy-Id", context.Request.Headers["Dapr-Reentrancy-Id"].ToString());
                using var response = await http.SendAsync(request);
                return Results.Text("outer+" + await response.Content.ReadAsStringAsync());
            });
            web.MapPut("/actors/Loop/{id}/method/inner", () =>
            {
                innerEntered.TrySetResult();
                return Results.Text("inner");
            });
        });
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("loop-app", components, app.Port, o => o.HttpPort = sidecarPort);
        using var client = new HttpClient();

        using var answer = await client.PutAsync($"{sidecar.HttpEndpoint}/v1.0/actors/Loop/1/method/outer", null).WaitAsync(Sidecars.Timeout);

        Assert.Equal("outer+inner", await answer.Content.ReadAsStringAsync());
        Assert.True(innerEntered.Task.IsCompleted);
    }

    [Fact]
    public async Task Invoke_TargetAppNotListeningYet_RetriedPerResiliencyUntilItAnswers()
    {
        using var components = Components.Create("memory");
        components.Write("app-retry.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: app-retry
            spec:
              policies:
                retries:
                  patient:
                    policy: constant
                    duration: 50ms
                    maxRetries: 200
              targets:
                apps:
                  late-app:
                    retry: patient
            """);
        await using var environment = new MoeDapr.Sidecar.Hosting.SidecarEnvironment();
        var latePort = FreePort.Next();
        var lateOptions = new MoeDapr.Sidecar.Hosting.SidecarOptions { AppId = "late-app", AppPort = latePort, HttpPort = 0, GrpcPort = 0 };
        lateOptions.ResourcesPaths.Add(components.Path);
        await using var late = await MoeDapr.Sidecar.Hosting.SidecarHost.StartAsync(lateOptions, environment);
        await using var caller = await Sidecars.StartAsync("caller", components, environment: environment);
        using var http = Dapr.Client.DaprClient.CreateInvokeHttpClient("late-app", caller.HttpEndpoint);

        var call = http.GetStringAsync("/hello");
        await using var app = await TestApp.StartAsync(null, web => web.MapGet("/hello", () => "finally"), latePort);

        Assert.Equal("finally", await call.WaitAsync(Sidecars.Timeout));
    }

    [Fact]
    public async Task ActorPlacement_TwoHostsOfAType_EachIdAlwaysOnOneHost()
    {
        static Task<TestApp> HostAsync(string name) => TestApp.StartAsync(null, web =>
        {
            web.MapGet("/dapr/config", () => Results.Json(new { entities = new[] { "Where" } }));
            web.MapPut("/actors/Where/{id}/method/host", () => Results.Text(name));
        });
        await using var first = await HostAsync("first");
        await using var second = await HostAsync("second");
        using var components = Components.Create("memory");
        await using var environment = new MoeDapr.Sidecar.Hosting.SidecarEnvironment();
        await using var firstSidecar = await Sidecars.StartAsync("where-app", components, first.Port, environment: environment);
        await using var secondSidecar = await Sidecars.StartAsync("where-app", components, second.Port, environment: environment);
        using var http = new HttpClient();

        var placements = new Dictionary<string, HashSet<string>>();
        foreach (var sidecar in new[] { firstSidecar, secondSidecar, firstSidecar })
        {
            for (var i = 0; i < 20; i++)
            {
                using var answer = await http.PutAsync($"{sidecar.HttpEndpoint}/v1.0/actors/Where/id-{i}/method/host", null);
                var host = await answer.Content.ReadAsStringAsync();
                placements.TryAdd($"id-{i}", []);
                placements[$"id-{i}"].Add(host);
            }
        }

        Assert.All(placements.Values, hosts => Assert.Single(hosts));
        Assert.Equal(["first", "second"], placements.Values.Select(h => h.Single()).Distinct().Order());
    }

    [Fact]
    public async Task HttpStateApi_EtagsBulkAndTransaction_AnswerLikeDaprd()
    {
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("http-state", components);
        using var http = new HttpClient { BaseAddress = new Uri(sidecar.HttpEndpoint) };

        using var saved = await http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key = "a", value = new { n = 1 } } });
        Assert.Equal(System.Net.HttpStatusCode.NoContent, saved.StatusCode);
        using var got = await http.GetAsync("/v1.0/state/statestore/a");
        Assert.Equal("1", got.Headers.ETag?.Tag ?? got.Headers.GetValues("ETag").Single());
        Assert.Equal("""{"n":1}""", await got.Content.ReadAsStringAsync());

        using var stale = await http.PostAsJsonAsync("/v1.0/state/statestore", new[] { new { key = "a", value = new { n = 2 }, etag = "7" } });
        Assert.Equal(System.Net.HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains("\"errorCode\":\"ERR_STATE_SAVE\"", await stale.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var transaction = await http.PostAsJsonAsync("/v1.0/state/statestore/transaction", new
        {
            operations = new object[]
            {
                new { operation = "upsert", request = new { key = "b", value = "x" } },
                new { operation = "delete", request = new { key = "a" } },
            },
        });
        Assert.Equal(System.Net.HttpStatusCode.NoContent, transaction.StatusCode);
        var bulk = await (await http.PostAsJsonAsync("/v1.0/state/statestore/bulk", new { keys = new[] { "a", "b" } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(bulk[0].TryGetProperty("data", out _));
        Assert.Equal("x", bulk[1].GetProperty("data").GetString());

        using var missingStore = await http.GetAsync("/v1.0/state/nostore/a");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, missingStore.StatusCode);
        Assert.Contains("ERR_STATE_STORE_NOT_FOUND", await missingStore.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
