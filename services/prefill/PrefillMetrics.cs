using Prometheus;

namespace MoeDapr.Prefill;

/// <summary>Prometheus metrics of the prefill worker (names in docs/metrics.md).</summary>
public sealed class PrefillMetrics
{
    public PrefillMetrics(EngineHost host)
    {
        // Prefix-cache counters live in the engine; copy them in right before each scrape.
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            if (host.Engine is { } engine)
            {
                var stats = engine.Stats;
                PrefixCacheQueries.IncTo(stats.PrefixCacheQueries);
                PrefixCacheHits.IncTo(stats.PrefixCacheHits);
            }
        });
    }

    public Counter PromptTokens { get; } = Metrics.CreateCounter("moedapr_prompt_tokens_total", "Prompt tokens prefilled.");

    public Counter PrefixCacheQueries { get; } = Metrics.CreateCounter("moedapr_prefix_cache_queries_total", "Prefix-cache lookups (blocks).");

    public Counter PrefixCacheHits { get; } = Metrics.CreateCounter("moedapr_prefix_cache_hits_total", "Prefix-cache lookups that found the block.");

    public Counter KvBytesExported { get; } = Metrics.CreateCounter(
        "moedapr_kv_bytes_exported_total", "KV bytes written to kv-transfer, by data plane.", new CounterConfiguration { LabelNames = ["plane"] });

    public Counter Batches { get; } = Metrics.CreateCounter(
        "moedapr_prefill_batches_total", "Prefill batches, by outcome.", new CounterConfiguration { LabelNames = ["outcome"] });
}
