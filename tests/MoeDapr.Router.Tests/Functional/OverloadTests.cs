namespace MoeDapr.Router.Tests.Functional;

public sealed class OverloadTests
{
    private static StringContent Body(int maxTokens = 4, string priority = "normal") =>
        new($$"""{"model":"test-moe","prompt":"hi","max_tokens":{{maxTokens}},"priority":"{{priority}}"}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task CreateCompletion_NoDecodeWorker_503AfterTheQueueTimeout()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Router:Admission:QueueTimeout"] = "00:00:00.3" });
        using var client = factory.CreateClient();

        using var response = await client.PostAsync("/v1/completions", Body());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("queue_timeout", (string)error["code"]!);
        Assert.Contains("no decode worker", (string)error["message"]!);
        Assert.True(response.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task CreateCompletion_QueueFull_429WithRetryAfterAndEveryRequestEnds()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:Admission:MaxQueuedRequests"] = "4",
            ["Router:Admission:QueueTimeout"] = "00:00:02",
        });
        using var client = factory.CreateClient();
        // Decode is saturated (as many waiting as slots): the queue absorbs, then rejects.
        factory.Announce(AppIds.Decode, WorkerRole.Decode, running: 2, maxRunning: 2);
        factory.Registry.Apply(new WorkerLoadSnapshot { AppId = "decode", Role = WorkerRole.Decode, InstanceId = "decode-instance", Sequence = 1000, TimestampUnixMs = 0, RunningSequences = 2, QueuedRequests = 2, MaxRunningSequences = 2 });

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            using var response = await client.PostAsync("/v1/completions", Body());
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta);
        }));

        var rejected = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        var timedOut = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.Equal(8, rejected.Count);
        Assert.Equal(4, timedOut.Count);
        Assert.All(rejected, r => Assert.True(r.RetryAfter >= TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task CreateCompletion_HighPriorityIntoFullQueue_ShedsALowPriorityWaiter()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:Admission:MaxQueuedRequests"] = "2",
            ["Router:Admission:LowPriorityMaxFill"] = "1",
            ["Router:Admission:QueueTimeout"] = "00:00:05",
        });
        using var client = factory.CreateClient();
        var low = Enumerable.Range(0, 2).Select(_ => client.PostAsync("/v1/completions", Body(priority: "low"))).ToArray();
        await Poll.UntilAsync(() => factory.Services.GetRequiredService<MoeDapr.Router.Scheduling.AdmissionGate>().Waiting == 2, "two low-priority waiters");

        var high = client.PostAsync("/v1/completions", Body(priority: "high"));
        var shed = await Task.WhenAny(low);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await shed).StatusCode);
        Assert.Contains("shed", await (await shed).Content.ReadAsStringAsync());

        factory.AnnounceDefaultWorkers(); // capacity returns: the high request and the other low one are served
        Assert.Equal(HttpStatusCode.OK, (await high).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await low.Single(t => t != shed)).StatusCode);
    }

    [Fact]
    public async Task CreateCompletion_BurstWellAboveCapacity_EveryRequestEndsOkOr429Or503AndRouterStaysReady()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:Admission:MaxQueuedRequests"] = "8",
            ["Router:Admission:QueueTimeout"] = "00:00:01",
        });
        using var client = factory.CreateClient();
        factory.Workers.TokenDelay = TimeSpan.FromMilliseconds(5);
        factory.Announce(AppIds.Decode, WorkerRole.Decode, maxRunning: 4);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 60).Select(async _ =>
        {
            using var response = await client.PostAsync("/v1/completions", Body(maxTokens: 8)).WaitAsync(TimeSpan.FromSeconds(30));
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable }));
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        using var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(0, factory.Services.GetRequiredService<MoeDapr.Router.Scheduling.AdmissionGate>().Waiting);
    }
}
