using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using MoeDapr.Tests.Shared.Prometheus;
using Prometheus;

namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>A real Prometheus scraping a real Kestrel app that exposes prometheus-net metrics.</summary>
public sealed class PrometheusServerTests
{
    private static readonly TimeSpan ScrapeDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task QueryAsync_CounterIncrementedInApp_ValueReachesPrometheus()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var registry = global::Prometheus.Metrics.NewCustomRegistry();
        var counter = global::Prometheus.Metrics.WithCustomRegistry(registry)
            .CreateCounter("moedapr_deploy_test_events_total", "Events counted by the test.", "kind");
        await using var app = await StartMetricsAppAsync(registry, cts.Token);
        var address = new Uri(app.Urls.Single());

        counter.WithLabels("a").Inc(3);
        await using var prometheus = await PrometheusServer.StartAsync(
            [new PrometheusScrapeTarget("probe", $"{address.Host}:{address.Port}")], cancellationToken: cts.Token);

        await prometheus.WaitForTargetUpAsync("probe", ScrapeDeadline, cts.Token);
        var first = await prometheus.WaitForSampleAsync(
            "moedapr_deploy_test_events_total{job=\"probe\",kind=\"a\"}", s => s.Value == 3, ScrapeDeadline, cts.Token);
        Assert.Equal($"{address.Host}:{address.Port}", first.Labels["instance"]);

        counter.WithLabels("a").Inc(4);
        var second = await prometheus.WaitForSampleAsync(
            "sum by (job) (moedapr_deploy_test_events_total)", s => s.Value == 7, ScrapeDeadline, cts.Token);
        Assert.Equal("probe", second.Labels["job"]);
    }

    [Fact]
    public async Task RuleFiles_ScrapedExpertUtilizationAboveThreshold_ExpertOverloadedPendingForThatExpertOnly()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var registry = global::Prometheus.Metrics.NewCustomRegistry();
        var utilization = global::Prometheus.Metrics.WithCustomRegistry(registry)
            .CreateGauge("moe_expert_utilization", "Share of the layer's tokens routed to the expert.", "layer", "expert");
        utilization.WithLabels("3", "5").Set(0.97);
        utilization.WithLabels("3", "6").Set(0.30);
        await using var app = await StartMetricsAppAsync(registry, cts.Token);
        var address = new Uri(app.Urls.Single());
        var rules = Path.Combine(Infrastructure.RepositoryPaths.PrometheusDir, "rules", "moedapr.yml");

        await using var prometheus = await PrometheusServer.StartAsync(
            [new PrometheusScrapeTarget("decode", $"{address.Host}:{address.Port}")],
            new PrometheusServerOptions { RuleFiles = [rules] },
            cts.Token);

        // The deployed rule file, evaluated by a real Prometheus on scraped data: pending (its `for` is 2m).
        var alert = await prometheus.WaitForSampleAsync(
            "ALERTS{alertname=\"ExpertOverloaded\"}", s => s.Labels["alertstate"] == "pending", ScrapeDeadline, cts.Token);
        Assert.Equal(("decode", "3", "5", "warning"), (alert.Labels["job"], alert.Labels["layer"], alert.Labels["expert"], alert.Labels["severity"]));
        var all = await prometheus.QueryAsync("ALERTS{alertname=\"ExpertOverloaded\"}", cts.Token);
        Assert.DoesNotContain(all, s => s.Labels["expert"] == "6");
    }

    [Fact]
    public async Task WaitForSampleAsync_TargetNotListening_ReportsItDown()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        // A port that was free a moment ago: nothing listens there, so every scrape fails.
        var port = FreePort.Next();

        await using var prometheus = await PrometheusServer.StartAsync(
            [new PrometheusScrapeTarget("decode", $"127.0.0.1:{port}")], cancellationToken: cts.Token);

        var down = await prometheus.WaitForSampleAsync("up{job=\"decode\"}", s => s.Value == 0, ScrapeDeadline, cts.Token);
        Assert.Equal($"127.0.0.1:{port}", down.Labels["instance"]);
    }

    [Fact]
    public async Task WaitForSampleAsync_NoSampleMatches_ThrowsTimeoutNamingTheQuery()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var prometheus = await PrometheusServer.StartAsync([], cancellationToken: cts.Token);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => prometheus.WaitForSampleAsync(
            "moedapr_never_exported_total", _ => true, TimeSpan.FromSeconds(1), cts.Token));
        Assert.Contains("moedapr_never_exported_total", error.Message, StringComparison.Ordinal);
    }

    private static async Task<WebApplication> StartMetricsAppAsync(CollectorRegistry registry, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapMetrics("/metrics", registry);
        await app.StartAsync(cancellationToken);
        // app.Urls now lists the port Kestrel bound.
        Assert.Single(app.Urls);
        return app;
    }
}
