using MoeDapr.Model;

namespace MoeDapr.Router.Tests.Functional;

public sealed class WorkerRoutingTests : IDisposable
{
    private static readonly string LongPrompt = new('p', 80);
    private readonly RouterFactory _factory = new();
    private readonly HttpClient _client;

    public WorkerRoutingTests() => _client = _factory.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private async Task<JsonNode> CompleteAsync(string prompt, int maxTokens = 6)
    {
        using var response = await _client.PostAsync("/v1/completions",
            new StringContent($$"""{"model":"test-moe","prompt":"{{prompt}}","max_tokens":{{maxTokens}},"seed":7}""", Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
        return body;
    }

    [Fact]
    public async Task CreateCompletion_PrefillWorkerFails_RetriedOnAnotherPrefillWorker()
    {
        _factory.AnnounceDefaultWorkers();
        // prefill-2 has a long queue, so the first choice is prefill, which fails.
        _factory.Registry.Apply(new WorkerLoadSnapshot { AppId = "prefill-2", Role = WorkerRole.Prefill, InstanceId = "p2", Sequence = 1, TimestampUnixMs = 0, QueuedTokens = 10_000 });
        _factory.Workers.FailingPrefill.Add(AppIds.Prefill);

        var body = await CompleteAsync(LongPrompt);

        Assert.Equal(_factory.Workers.Script[..6], (string)body["choices"]![0]!["text"]!);
        Assert.Equal([AppIds.Prefill, "prefill-2"], _factory.Workers.PrefillCalls.Select(c => c.AppId));
        Assert.False(Assert.Single(_factory.Workers.DecodeCalls).Request.IsLocalPrefill);
    }

    [Fact]
    public async Task CreateCompletion_EveryPrefillWorkerFails_ServedAggregatedOnDecodeWithTheSameText()
    {
        _factory.AnnounceDefaultWorkers();
        _factory.Workers.FailingPrefill.Add(AppIds.Prefill);

        var body = await CompleteAsync(LongPrompt);

        Assert.Equal(_factory.Workers.Script[..6], (string)body["choices"]![0]!["text"]!);
        Assert.True(Assert.Single(_factory.Workers.DecodeCalls).Request.IsLocalPrefill);
        await Poll.UntilAsync(() => _factory.Completions.Any(c => c.Path == ServingPaths.Aggregated), "an aggregated completion record");
    }

    [Fact]
    public async Task CreateCompletion_NoPrefillWorkerThenOneAppears_SwitchesFromAggregatedToDisaggregated()
    {
        _factory.Announce(AppIds.Decode, WorkerRole.Decode);

        await CompleteAsync(LongPrompt);
        Assert.Empty(_factory.Workers.PrefillCalls);
        Assert.True(Assert.Single(_factory.Workers.DecodeCalls).Request.IsLocalPrefill);

        _factory.Announce(AppIds.Prefill, WorkerRole.Prefill);
        _factory.Registry.ReportKvTransferProbe(true);
        await CompleteAsync(LongPrompt);
        Assert.Single(_factory.Workers.PrefillCalls);
    }

    [Fact]
    public async Task CreateCompletion_KvTransferDown_ServedAggregated()
    {
        _factory.Workers.KvTransferReady = false;
        _factory.Announce(AppIds.Prefill, WorkerRole.Prefill);
        _factory.Announce(AppIds.Decode, WorkerRole.Decode);
        _factory.Registry.ReportKvTransferProbe(false);

        await CompleteAsync(LongPrompt);

        Assert.Empty(_factory.Workers.PrefillCalls);
    }

    [Fact]
    public async Task CreateCompletion_DecodeWorkerRefuses_RetriedOnAnotherWithLocalPrefill()
    {
        _factory.AnnounceDefaultWorkers();
        _factory.Announce("decode-2", WorkerRole.Decode);
        _factory.Workers.FailingDecode.Add(AppIds.Decode);
        _factory.Workers.FailingDecode.Add("decode-2");

        using var response = await _client.PostAsync("/v1/completions",
            new StringContent($$"""{"model":"test-moe","prompt":"{{LongPrompt}}","max_tokens":6}""", Encoding.UTF8, "application/json"));

        // Both fail: reported to the client after exactly two attempts, one per worker.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(2, _factory.Workers.DecodeCalls.Select(c => c.AppId).Distinct().Count());
    }

    [Fact]
    public async Task CreateCompletion_OneDecodeWorkerFails_SecondAttemptSucceedsOnTheOther()
    {
        _factory.Announce(AppIds.Decode, WorkerRole.Decode, running: 0);
        _factory.Announce("decode-2", WorkerRole.Decode, running: 0);
        _factory.Workers.FailingDecode.Add("decode-2");

        for (var i = 0; i < 4; i++)
        {
            var body = await CompleteAsync("hi");
            Assert.Equal(_factory.Workers.Script[..6], (string)body["choices"]![0]!["text"]!);
        }
    }

    [Fact]
    public async Task CreateCompletion_RepeatedLongPrefix_RoutedToThePrefillWorkerHoldingIt()
    {
        _factory.AnnounceDefaultWorkers();
        var prompt = FakeTokenizer.Ids(new string('s', 95)); // with BOS: 96 tokens = 6 full blocks
        var hashes = PrefixBlockHash.Chain([FakeTokenizer.Bos, .. prompt], 16).Select(PrefixBlockHash.ToHex).ToArray();
        _factory.Announce("prefill-2", WorkerRole.Prefill, cachedHashes: hashes);

        for (var i = 0; i < 5; i++)
        {
            await CompleteAsync(new string('s', 95));
        }

        Assert.All(_factory.Workers.PrefillCalls, c => Assert.Equal("prefill-2", c.AppId));
    }

    [Fact]
    public async Task Ready_WithoutThenWithDecodeWorker_FollowsTheWorkers()
    {
        using var before = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        using var live = await _client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        _factory.Announce(AppIds.Decode, WorkerRole.Decode);

        using var after = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task Ready_OnlyDecodeWorkerSaturated_StaysReady()
    {
        _factory.Announce(AppIds.Decode, WorkerRole.Decode, kvUsage: 0.99);

        using var ready = await _client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task WorkerLoadSubscription_CloudEvent_RegistersTheWorker()
    {
        var subscriptions = await _client.GetFromJsonAsync<JsonArray>("/dapr/subscribe");
        var subscription = Assert.Single(subscriptions!);
        Assert.Equal(PubSub.Name, (string)subscription!["pubsubName"]!);
        Assert.Equal(PubSub.WorkerLoadTopic, (string)subscription["topic"]!);

        var envelope = $$"""
            {"specversion":"1.0","id":"1","source":"decode-3","type":"com.dapr.event.sent","datacontenttype":"application/json",
             "topic":"{{PubSub.WorkerLoadTopic}}","pubsubname":"{{PubSub.Name}}",
             "data":{"appId":"decode-3","role":"decode","instanceId":"x","sequence":1,"timestampUnixMs":0,"maxRunningSequences":8} }
            """;
        using var response = await _client.PostAsync("/" + (string)subscription["route"]!, new StringContent(envelope, Encoding.UTF8, "application/cloudevents+json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(_factory.Registry.List(), w => w.AppId == "decode-3" && w.Role == WorkerRole.Decode && w.Available);
    }

    [Fact]
    public async Task WorkerLoadSubscription_MalformedSnapshot_IsDroppedNotRetried()
    {
        using var response = await _client.PostAsync(WorkerLoadRoute, new StringContent("""{"appId":5}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("DROP", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Degraded_SwitchedOnAtRunTime_CapsBatchesAndShortensQueueTimeout()
    {
        using var admin = _factory.CreateAdminClient();
        using var on = await admin.PostAsJsonAsync("/admin/degraded", new { enabled = true });
        var state = await on.Content.ReadFromJsonAsync<JsonNode>();

        Assert.True((bool)state!["enabled"]!);
        Assert.Equal(16, (int)state["maxBatchSize"]!);
        Assert.Equal(1.0, (double)state["queueTimeoutSeconds"]!);
        using var response = await _client.PostAsync("/v1/completions", new StringContent("""{"model":"test-moe","prompt":"hi"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode); // no workers: times out after 1 s instead of 5 s
        Assert.Contains("1 s", await response.Content.ReadAsStringAsync());

        using var bad = await admin.PostAsJsonAsync("/admin/degraded", new { });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Metrics_AfterARequest_ExposeTheVllmStyleNames()
    {
        _factory.AnnounceDefaultWorkers();
        await CompleteAsync("hi");

        var text = await _client.GetStringAsync("/metrics");

        foreach (var name in new[]
        {
            "moedapr_time_to_first_token_seconds", "moedapr_inter_token_latency_seconds", "moedapr_e2e_request_latency_seconds",
            "moedapr_request_queue_time_seconds", "moedapr_num_requests_running", "moedapr_num_requests_waiting",
            "moedapr_router_rejections_total", "moedapr_batch_size",
        })
        {
            Assert.Contains(name, text);
        }
    }

    private const string WorkerLoadRoute = MoeDapr.Router.Api.WorkerEventsApi.WorkerLoadRoute;
}
