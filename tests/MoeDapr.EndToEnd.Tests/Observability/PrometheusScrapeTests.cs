using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MoeDapr.EndToEnd.Tests.Overload;
using MoeDapr.Tests.Shared.Prometheus;

namespace MoeDapr.EndToEnd.Tests.Observability;

/// <summary>
/// A real Prometheus with the project's alert rules scraping the four running services, as deploy/prometheus sets it
/// up: traffic through the router shows in the request metrics and in the experts' token counts, and every rule loads
/// and evaluates against the live series.
/// </summary>
[Collection(RouterStackCollection.Name)]
public sealed partial class PrometheusScrapeTests(RouterStackFixture stack)
{
    private const int Requests = 6;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static readonly string[] Jobs = ["router", AppIds.Prefill, AppIds.Decode, AppIds.KvTransfer];

    [Fact]
    public async Task Prometheus_TrafficThroughRouter_RequestAndExpertMetricsShowIt_AlertRulesLoaded()
    {
        var rules = Path.Combine(ServiceBinaries.Discover().RepositoryRoot!, "deploy", "prometheus", "rules", "moedapr.yml");
        var decode = stack.App(AppIds.Decode);
        var targets = Jobs.Select(job => new PrometheusScrapeTarget(job, Address(job == "router" ? stack.Router : stack.App(job))));
        await using var prometheus = await PrometheusServer.StartAsync(targets, new PrometheusServerOptions
        {
            RuleFiles = [rules],
            // A 1 s scrape timeout turned a slow scrape on a busy 2-core host into `up == 0` and a pending WorkerDown.
            ScrapeInterval = TimeSpan.FromSeconds(3),
        });
        foreach (var job in Jobs)
        {
            await prometheus.WaitForTargetUpAsync(job, Deadline);
        }

        // The stack is shared: count from what the services hold now, not from zero.
        var ttftBefore = await stack.RouterMetricAsync("moedapr_time_to_first_token_seconds_count");
        var e2eBefore = await stack.RouterMetricAsync("moedapr_e2e_request_latency_seconds_count");
        var expertBefore = await stack.MetricAsync(decode, "moe_expert_tokens_total");

        var answers = await Task.WhenAll(Enumerable.Range(0, Requests).Select(SendAsync));
        Assert.All(answers, status => Assert.Equal(HttpStatusCode.OK, status));

        await WaitAtLeastAsync(prometheus, "sum(moedapr_time_to_first_token_seconds_count{job=\"router\"})", ttftBefore + Requests);
        await WaitAtLeastAsync(prometheus, "sum(moedapr_e2e_request_latency_seconds_count{job=\"router\"})", e2eBefore + Requests);
        await WaitAtLeastAsync(prometheus, "sum(moe_expert_tokens_total{job=\"decode\"})", expertBefore + 1);
        var experts = await prometheus.QueryAsync("count(moe_expert_tokens_total{job=\"decode\"} > 0)");
        Assert.True(Assert.Single(experts).Value >= 2, "tokens reached fewer than two experts");

        await AssertEveryRuleEvaluatesAsync(prometheus, AlertNames(rules));
        Assert.Empty(await prometheus.QueryAsync("ALERTS{alertname=\"WorkerDown\"}"));
    }

    private async Task<HttpStatusCode> SendAsync(int index)
    {
        using var request = stack.Completion($"tell me a story about the school and the teacher number {index}", maxTokens: 6);
        using var response = await stack.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task WaitAtLeastAsync(PrometheusServer prometheus, string promQl, double atLeast) =>
        await prometheus.WaitForSampleAsync(promQl, s => s.Value >= atLeast, Deadline);

    /// <summary>Waits until Prometheus has loaded every alert of the rules file and evaluated each without error.</summary>
    private static async Task AssertEveryRuleEvaluatesAsync(PrometheusServer prometheus, IReadOnlyCollection<string> expected)
    {
        using var http = new HttpClient { BaseAddress = prometheus.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var loaded = new Dictionary<string, string>(StringComparer.Ordinal);
            using (var json = JsonDocument.Parse(await http.GetStringAsync("api/v1/rules")))
            {
                foreach (var group in json.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray())
                {
                    foreach (var rule in group.GetProperty("rules").EnumerateArray().Where(r => r.GetProperty("type").GetString() == "alerting"))
                    {
                        loaded[rule.GetProperty("name").GetString()!] = rule.GetProperty("health").GetString()!;
                    }
                }
            }

            var missing = expected.Where(name => !loaded.ContainsKey(name)).ToList();
            Assert.True(missing.Count == 0, "alerts not loaded: " + string.Join(", ", missing) + "\n" + prometheus.Log);
            var broken = loaded.Where(r => r.Value == "err").Select(r => r.Key).ToList();
            Assert.True(broken.Count == 0, "alerts failing to evaluate: " + string.Join(", ", broken));
            if (loaded.Values.All(health => health == "ok"))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "alerts never evaluated: " + string.Join(", ", loaded.Where(r => r.Value != "ok").Select(r => r.Key)));
            await Task.Delay(200);
        }
    }

    private static List<string> AlertNames(string rulesFile) =>
        AlertLine().Matches(File.ReadAllText(rulesFile)).Select(m => m.Groups["name"].Value).ToList();

    private static string Address(Uri service) => $"127.0.0.1:{service.Port.ToString(CultureInfo.InvariantCulture)}";

    [GeneratedRegex(@"^\s*-\s*alert:\s*(?<name>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertLine();
}
