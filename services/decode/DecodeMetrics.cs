using System.Globalization;
using MoeDapr.Engine.Eplb;
using Prometheus;

namespace MoeDapr.Decode;

/// <summary>
/// Prometheus metrics of the decode worker: serving gauges in vLLM's names, and expert telemetry under the names in
/// docs/metrics.md. Engine-side values are copied in right before each scrape.
/// </summary>
public sealed class DecodeMetrics
{
    public DecodeMetrics(EngineHost host)
    {
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            if (host.Engine is { } engine)
            {
                Update(engine);
            }
        });
    }

    public Gauge Running { get; } = Metrics.CreateGauge("moedapr_num_requests_running", "Sequences in the continuous batch.");

    public Gauge Waiting { get; } = Metrics.CreateGauge("moedapr_num_requests_waiting", "Sequences waiting for a batch slot.");

    public Gauge KvCacheUsage { get; } = Metrics.CreateGauge("moedapr_kv_cache_usage_ratio", "Share of the KV block pool in use, in [0, 1].");

    public Counter PrefixCacheQueries { get; } = Metrics.CreateCounter("moedapr_prefix_cache_queries_total", "Prefix-cache lookups (blocks).");

    public Counter PrefixCacheHits { get; } = Metrics.CreateCounter("moedapr_prefix_cache_hits_total", "Prefix-cache lookups that found the block.");

    public Counter GenerationTokens { get; } = Metrics.CreateCounter("moedapr_generation_tokens_total", "Tokens streamed to callers.");

    public Counter Requests { get; } = Metrics.CreateCounter(
        "moedapr_decode_requests_total", "Decode calls, by outcome (ok, aborted, deadline_exceeded, kv_not_found, ...).", new CounterConfiguration { LabelNames = ["outcome"] });

    public Counter KvBytesImported { get; } = Metrics.CreateCounter(
        "moedapr_kv_bytes_imported_total", "KV bytes read from kv-transfer, by data plane.", new CounterConfiguration { LabelNames = ["plane"] });

    public Counter KvIntegrityFailures { get; } = Metrics.CreateCounter("moedapr_kv_integrity_failures_total", "KV payloads refused for a failed checksum.");

    public Counter ExpertTokens { get; } = Metrics.CreateCounter(
        "moe_expert_tokens_total", "Top-k assignments routed to each expert.", new CounterConfiguration { LabelNames = ["layer", "expert"] });

    public Gauge ExpertUtilization { get; } = Metrics.CreateGauge(
        "moe_expert_utilization", "Share of the layer's assignments routed to the expert, since start.", new GaugeConfiguration { LabelNames = ["layer", "expert"] });

    public Gauge LoadImbalanceGini { get; } = Metrics.CreateGauge(
        "moe_load_imbalance_gini", "Gini coefficient of the layer's expert token counts (0 balanced, 1 all on one expert).", new GaugeConfiguration { LabelNames = ["layer"] });

    public Gauge LoadMaxOverMean { get; } = Metrics.CreateGauge(
        "moe_load_max_over_mean", "Largest expert count over the mean count, per layer.", new GaugeConfiguration { LabelNames = ["layer"] });

    public Counter RankTokens { get; } = Metrics.CreateCounter(
        "moe_rank_tokens_total", "Assignments computed by each expert-parallel rank.", new CounterConfiguration { LabelNames = ["layer", "rank"] });

    private void Update(Engine.InferenceEngine engine)
    {
        var stats = engine.Stats;
        Running.Set(stats.Running);
        Waiting.Set(stats.Waiting);
        KvCacheUsage.Set(stats.KvBlocksTotal > 0 ? (double)stats.KvBlocksUsed / stats.KvBlocksTotal : 0);
        PrefixCacheQueries.IncTo(stats.PrefixCacheQueries);
        PrefixCacheHits.IncTo(stats.PrefixCacheHits);
        foreach (var load in engine.ExpertLoads)
        {
            var layer = load.Layer.ToString(CultureInfo.InvariantCulture);
            var shares = ExpertLoadStatistics.UtilizationShares(load.ExpertTokens);
            for (var e = 0; e < load.ExpertTokens.Length; e++)
            {
                var expert = e.ToString(CultureInfo.InvariantCulture);
                ExpertTokens.WithLabels(layer, expert).IncTo(load.ExpertTokens[e]);
                ExpertUtilization.WithLabels(layer, expert).Set(shares[e]);
            }

            for (var r = 0; r < load.RankTokens.Length; r++)
            {
                RankTokens.WithLabels(layer, r.ToString(CultureInfo.InvariantCulture)).IncTo(load.RankTokens[r]);
            }

            LoadImbalanceGini.WithLabels(layer).Set(ExpertLoadStatistics.Gini(load.ExpertTokens));
            LoadMaxOverMean.WithLabels(layer).Set(ExpertLoadStatistics.MaxOverMean(load.ExpertTokens));
        }
    }
}
