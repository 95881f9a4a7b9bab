using Prometheus;

namespace MoeDapr.Decode;

/// <summary>
/// Prometheus metrics of the decode worker: serving gauges in vLLM's names (the expert metrics are in Eplb/EplbMetrics).
/// Engine-side values are copied in right before each scrape.
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

    private void Update(Engine.InferenceEngine engine)
    {
        var stats = engine.Stats;
        Running.Set(stats.Running);
        Waiting.Set(stats.Waiting);
        KvCacheUsage.Set(stats.KvBlocksTotal > 0 ? (double)stats.KvBlocksUsed / stats.KvBlocksTotal : 0);
        PrefixCacheQueries.IncTo(stats.PrefixCacheQueries);
        PrefixCacheHits.IncTo(stats.PrefixCacheHits);
    }
}
