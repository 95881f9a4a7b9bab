using Prometheus;

namespace MoeDapr.Decode.Eplb;

/// <summary>The expert metrics of decode, under the names, types and labels of docs/metrics.md.</summary>
public sealed class EplbMetrics
{
    // docs/metrics.md: the bucket list of moe_routing_latency_seconds, 0.01 being the RoutingLatencyHigh threshold.
    private static readonly double[] RoutingBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

    public EplbMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Metrics.DefaultRegistry;
        var factory = Metrics.WithCustomRegistry(Registry);
        ExpertTokens = factory.CreateCounter(
            "moe_expert_tokens_total", "Tokens routed to the expert (each of a token's top-k choices counts once).",
            new CounterConfiguration { LabelNames = ["layer", "expert"] });
        ExpertUtilization = factory.CreateGauge(
            "moe_expert_utilization", "Tokens to the expert / tokens through the layer over the last telemetry window (a layer's values sum to top-k).",
            new GaugeConfiguration { LabelNames = ["layer", "expert"] });
        LoadGini = factory.CreateGauge(
            "moe_load_imbalance_gini", "Gini coefficient of the layer's per-expert token counts over the last window (0 balanced, 1 all on one expert).",
            new GaugeConfiguration { LabelNames = ["layer"] });
        LoadMaxMeanRatio = factory.CreateGauge(
            "moe_load_max_mean_ratio", "Largest per-expert token count over the mean, per layer, over the last window.",
            new GaugeConfiguration { LabelNames = ["layer"] });
        RoutingLatency = factory.CreateHistogram(
            "moe_routing_latency_seconds", "Time spent in routing (gate projection and top-k, all MoE layers) per step.",
            new HistogramConfiguration { Buckets = RoutingBuckets });
        RankTokens = factory.CreateCounter(
            "moe_ep_rank_tokens_total", "Tokens processed by the experts held on each expert-parallel rank.",
            new CounterConfiguration { LabelNames = ["rank"] });
        RankStepSeconds = factory.CreateHistogram(
            "moe_ep_rank_step_seconds", "Expert compute time per step on each expert-parallel rank.",
            new HistogramConfiguration { LabelNames = ["rank"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 15) });
        Balancedness = factory.CreateGauge(
            "moe_eplb_balancedness", "Balancedness of the expert placement in use: mean rank load / max rank load, averaged over layers.");
        Rebalances = factory.CreateCounter("moe_eplb_rebalances_total", "Expert placement plans applied (live rebalances).");
        CacheEvictions = factory.CreateCounter(
            "moe_expert_cache_evictions_total", "Expert weight sets dropped from a rank (replicas or experts a rebalance moved away).",
            new CounterConfiguration { LabelNames = ["rank"] });
    }

    /// <summary>Where the metrics are registered (the default registry serves <c>/metrics</c>).</summary>
    public CollectorRegistry Registry { get; }

    public Counter ExpertTokens { get; }

    public Gauge ExpertUtilization { get; }

    public Gauge LoadGini { get; }

    public Gauge LoadMaxMeanRatio { get; }

    public Histogram RoutingLatency { get; }

    public Counter RankTokens { get; }

    public Histogram RankStepSeconds { get; }

    public Gauge Balancedness { get; }

    public Counter Rebalances { get; }

    public Counter CacheEvictions { get; }
}
