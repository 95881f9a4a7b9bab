using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using MoeDapr.Tests.Shared.Prometheus;
using Prometheus;

namespace MoeDapr.Deploy.Tests.Prometheus;

/// <summary>A real Prometheus scraping a real Kestrel app that exposes prometheus-net metrics.</summary>
public sealed class PrometheusServerTests
{
    private static readonly TimeSpan ScrapeDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task QueryAsync_CounterIncrementedInApp_ValueReachesPrometheus()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var registry = Metrics.NewCustomRegistry();
        var counter = Metrics.WithCustomRegistry(registry)
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
    public async Task WaitForSampleAsync_TargetNotListening_ReportsItDown()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        // A port that was free a moment ago: nothing listens there, so every scrape fails.
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();

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
