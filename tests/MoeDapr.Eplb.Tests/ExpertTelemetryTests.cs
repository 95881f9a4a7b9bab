using MoeDapr.Contracts;
using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using MoeDapr.WorkerHosting;
using MoeDapr.Decode;
using MoeDapr.Decode.Eplb;
using MoeDapr.Engine;
using MoeDapr.Engine.Eplb;
using MoeDapr.Eplb.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace MoeDapr.Eplb.Tests;

/// <summary>The decode service's /metrics after known traffic: the moe_* series equal the engine's own counters.</summary>
public sealed class ExpertTelemetryTests
{
    [Fact]
    public async Task Metrics_AfterKnownTraffic_MatchEngineCountersAndDocumentedNames()
    {
        var model = TinyMoe.WriteCheckpoint();
        var logs = new CapturingLoggerProvider();
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseSetting("Model:Path", model)
            .UseSetting("Engine:ExpertParallelSize", "2")
            .UseSetting("Engine:NumBlocks", "128")
            .UseSetting("Engine:Threads", "1")
            .UseSetting("Eplb:RedundantExperts", "2")
            .UseSetting("Eplb:TelemetryInterval", "01:00:00")
            .UseSetting("Worker:LoadInterval", "01:00:00")
            .UseSetting("Worker:ExpertLogInterval", "00:00:00.001")
            .ConfigureLogging(logging => logging.AddProvider(logs)));
        using var http = factory.CreateClient();
        var host = factory.Services.GetRequiredService<EngineHost>();
        await Poll.UntilAsync(() => host.Engine is not null, Poll.Timeout, "the model to load");
        var engine = host.Engine!;
        var telemetry = factory.Services.GetRequiredService<ExpertTelemetry>();
        telemetry.Refresh(); // attaches the step observer before the traffic

        // Known traffic: prompts of 10 and 7 tokens, 6 output tokens each: every token passes every MoE layer once.
        int[] lengths = [10, 7];
        const int outputTokens = 6;
        foreach (var (length, i) in lengths.Select((l, i) => (l, i)))
        {
            await engine.GenerateAllAsync(new GenerateRequest { RequestId = $"known-{i}", PromptTokens = TinyMoe.Prompt(length, 40 + i), Sampling = SamplingParams.Greedy(outputTokens) });
        }

        var tokensThroughLayer = lengths.Sum(l => l + outputTokens - 1); // the last output token is never fed back
        // The last step's counters and timings are published just after its token: wait until the engine is idle.
        MetricsText metrics = null!;
        await Poll.UntilAsync(async () =>
        {
            telemetry.Refresh();
            metrics = new MetricsText(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative)));
            return engine.Stats.Running == 0 && metrics.Value("moe_routing_latency_seconds_count") == engine.Stats.Steps;
        }, Poll.Timeout, "the routing histogram to count every step");

        var topK = TinyMoe.Config.NumExpertsPerToken;
        var loads = engine.ExpertLoads;
        Assert.Equal(2, loads.Count);
        foreach (var load in loads)
        {
            var layer = load.Layer.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(tokensThroughLayer * topK, load.ExpertTokens.Sum());
            var utilization = 0.0;
            for (var e = 0; e < load.ExpertTokens.Length; e++)
            {
                var expert = e.ToString(CultureInfo.InvariantCulture);
                Assert.Equal(load.ExpertTokens[e], metrics.Value("moe_expert_tokens_total", ("layer", layer), ("expert", expert)));
                utilization += metrics.Value("moe_expert_utilization", ("layer", layer), ("expert", expert));
            }

            Assert.Equal(topK, utilization, 9);
            Assert.Equal(ExpertLoadStatistics.Gini(load.ExpertTokens), metrics.Value("moe_load_imbalance_gini", ("layer", layer)), 9);
            Assert.Equal(ExpertLoadStatistics.MaxOverMean(load.ExpertTokens), metrics.Value("moe_load_max_mean_ratio", ("layer", layer)), 9);
        }

        // Each rank's tokens over all MoE layers; together every assignment of every layer.
        var rankTokens = metrics.All("moe_ep_rank_tokens_total");
        Assert.Equal(2, rankTokens.Count);
        Assert.Equal(loads.Sum(l => l.RankTokens[0]), metrics.Value("moe_ep_rank_tokens_total", ("rank", "0")));
        Assert.Equal(2 * tokensThroughLayer * topK, rankTokens.Sum(s => s.Value));

        // One routing observation per model step, the documented 0.01 bucket among the boundaries.
        Assert.Equal(engine.Stats.Steps, metrics.Value("moe_routing_latency_seconds_count"));
        Assert.Contains(metrics.All("moe_routing_latency_seconds_bucket"), s => s.Labels["le"] == "0.01");
        Assert.Equal(engine.Stats.Steps, metrics.Value("moe_ep_rank_step_seconds_count", ("rank", "1")));

        var balancedness = metrics.Value("moe_eplb_balancedness");
        var expected = loads.Average(l => ExpertTelemetry.LayerBalancedness(l, l.ExpertTokens, 2));
        Assert.Equal(expected, balancedness, 9);
        Assert.InRange(balancedness, 0.01, 1);
        Assert.Equal(0, metrics.Value("moe_eplb_rebalances_total"));

        // The periodic line, one per MoE layer, and the warning exactly for the layers past Gini 0.5 or max/mean 3.
        foreach (var load in loads)
        {
            Assert.Contains(logs.Lines, l => l.StartsWith($"Expert usage: layer {load.Layer} [", StringComparison.Ordinal));
            var hot = ExpertLoadStatistics.Gini(load.ExpertTokens) > 0.5 || ExpertLoadStatistics.MaxOverMean(load.ExpertTokens) > 3;
            Assert.Equal(hot, logs.Lines.Any(l => l.StartsWith($"Expert load imbalance on layer {load.Layer}:", StringComparison.Ordinal)));
        }
    }
}
