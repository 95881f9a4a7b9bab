using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace MoeDapr.EndToEnd.Tests.Overload;

/// <summary>
/// The router under load far above what the tiny stack serves: every request gets an answer (ok, 429 with Retry-After,
/// or 503), the waiting queue never exceeds its bound, and the router stays ready throughout.
/// </summary>
[Collection(RouterStackCollection.Name)]
public sealed class OverloadTests(RouterStackFixture stack, ITestOutputHelper output)
{
    /// <summary>Requests offered, evenly spread over <see cref="Window"/>: far more than a queue of 8 plus running batches holds.</summary>
    private const int Requests = 240;

    private const int MaxTokens = 16;

    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    /// <summary>Well above the queue timeout plus a generation: a request that runs into it counts as hung.</summary>
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(45);

    private static readonly TimeSpan MonitorInterval = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task Completions_LoadFarAboveCapacity_EveryRequestAnsweredQueueBoundedRouterStaysReady()
    {
        using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var burstDone = new CancellationTokenSource();
        var monitor = MonitorAsync(burstDone.Token);

        var clock = Stopwatch.StartNew();
        var sends = new List<Task<Outcome>>(Requests);
        for (var i = 0; i < Requests; i++)
        {
            var due = Window * i / Requests;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            sends.Add(SendAsync(client, i));
        }

        var outcomes = await Task.WhenAll(sends);
        await burstDone.CancelAsync();
        var (maxWaiting, samples, notReady) = await monitor;

        var hung = outcomes.Where(o => o.Status is null).ToList();
        Assert.True(hung.Count == 0, $"{hung.Count} requests got no answer within {ClientTimeout.TotalSeconds} s\n{stack.Logs()}");
        var unexpected = outcomes.Where(o => o.Status is not (HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)).ToList();
        Assert.True(unexpected.Count == 0, "unexpected answers: " + string.Join("; ", unexpected.Take(5).Select(o => $"{(int?)o.Status} {o.Body}")));

        var ok = outcomes.Where(o => o.Status == HttpStatusCode.OK).ToList();
        var rejected = outcomes.Where(o => o.Status == HttpStatusCode.TooManyRequests).ToList();
        var timedOut = outcomes.Where(o => o.Status == HttpStatusCode.ServiceUnavailable).ToList();
        output.WriteLine($"{Requests} requests in {Window.TotalSeconds} s: ok {ok.Count}, 429 {rejected.Count}, 503 {timedOut.Count}; deepest queue {maxWaiting} of {RouterStackFixture.QueueBound} ({samples} samples)");
        Assert.NotEmpty(ok);
        Assert.All(ok, o => Assert.True(CompletionTokens(o.Body) >= 1, $"request {o.Index} answered 200 without output tokens: {o.Body}"));

        // The load really overflowed the queue, and every refusal tells the client when to come back.
        Assert.True(rejected.Count > 0, $"no 429 among {Requests} requests in {Window.TotalSeconds} s (ok {ok.Count}, 503 {timedOut.Count}): the load did not exceed capacity");
        Assert.All(rejected, o => Assert.True(o.RetryAfter >= TimeSpan.FromSeconds(1), $"429 of request {o.Index} without a usable Retry-After: {o.Body}"));
        Assert.All(rejected.Concat(timedOut), o => Assert.Equal("error", ErrorKind(o.Body)));

        Assert.True(samples > 0, "the router's /metrics was never read during the burst");
        Assert.True(maxWaiting <= RouterStackFixture.QueueBound, $"moedapr_num_requests_waiting reached {maxWaiting}, above the bound {RouterStackFixture.QueueBound}");
        Assert.True(notReady.Count == 0, "health/ready failed during the burst: " + string.Join("; ", notReady.Take(5)));
        using var after = await stack.Http.GetAsync(new Uri(stack.Router, "health/ready"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private async Task<Outcome> SendAsync(HttpClient client, int index)
    {
        using var timeout = new CancellationTokenSource(ClientTimeout);
        using var request = stack.Completion($"request {index} asks about the history of the city and its people", MaxTokens);
        try
        {
            using var response = await client.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            return new Outcome(index, response.StatusCode, response.Headers.RetryAfter?.Delta, body);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return new Outcome(index, null, null, "client timeout");
        }
    }

    /// <summary>Reads the router's queue depth and readiness until the burst ends; returns the deepest queue seen.</summary>
    private async Task<(double MaxWaiting, int Samples, List<string> NotReady)> MonitorAsync(CancellationToken burstDone)
    {
        var maxWaiting = 0.0;
        var samples = 0;
        var notReady = new List<string>();
        while (!burstDone.IsCancellationRequested)
        {
            maxWaiting = Math.Max(maxWaiting, await stack.RouterMetricAsync("moedapr_num_requests_waiting", CancellationToken.None));
            samples++;
            using (var ready = await stack.Http.GetAsync(new Uri(stack.Router, "health/ready"), CancellationToken.None))
            {
                if (ready.StatusCode != HttpStatusCode.OK)
                {
                    notReady.Add($"{(int)ready.StatusCode} {await ready.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            }

            try
            {
                await Task.Delay(MonitorInterval, burstDone);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return (maxWaiting, samples, notReady);
    }

    private static int CompletionTokens(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
    }

    /// <summary>The top-level member of an OpenAI-style body ("error" for refusals).</summary>
    private static string? ErrorKind(string body)
    {
        using var json = JsonDocument.Parse(body);
        return json.RootElement.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => n == "error");
    }

    private sealed record Outcome(int Index, HttpStatusCode? Status, TimeSpan? RetryAfter, string Body);
}
