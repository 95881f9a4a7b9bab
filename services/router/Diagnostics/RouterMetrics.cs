using Prometheus;

namespace MoeDapr.Router.Diagnostics;

/// <summary>The router's Prometheus metrics (vLLM's names under the <c>moedapr_</c> prefix; seconds throughout).</summary>
public sealed class RouterMetrics
{
    private static readonly double[] FastBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
    private static readonly double[] SlowBuckets = [0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960];

    public RouterMetrics(CollectorRegistry? registry = null)
    {
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.DefaultRegistry);
        TimeToFirstToken = factory.CreateHistogram("moedapr_time_to_first_token_seconds", "Time from request arrival to the first output token.", new HistogramConfiguration { Buckets = FastBuckets });
        InterTokenLatency = factory.CreateHistogram("moedapr_inter_token_latency_seconds", "Time between consecutive output tokens of a request.", new HistogramConfiguration { Buckets = FastBuckets });
        EndToEndLatency = factory.CreateHistogram("moedapr_e2e_request_latency_seconds", "Time from request arrival to its last byte.", new HistogramConfiguration { Buckets = SlowBuckets });
        QueueTime = factory.CreateHistogram("moedapr_request_queue_time_seconds", "Time requests waited in the router's queue before dispatch.", new HistogramConfiguration { Buckets = SlowBuckets });
        Running = factory.CreateGauge("moedapr_num_requests_running", "Requests dispatched to workers and not finished.");
        Waiting = factory.CreateGauge("moedapr_num_requests_waiting", "Requests waiting in the router's queue.");
        Rejections = factory.CreateCounter("moedapr_router_rejections_total", "Requests refused by admission or dropped from the queue.", "reason");
        BatchSize = factory.CreateGauge("moedapr_batch_size", "Current prefill batch size limit.");
        BatchSizeChanges = factory.CreateCounter("moedapr_batch_size_changes_total", "Changes of the prefill batch size limit.", "direction");
        PrefillBatchRequests = factory.CreateHistogram("moedapr_prefill_batch_requests", "Requests per dispatched prefill batch.", new HistogramConfiguration { Buckets = Histogram.PowersOfTenDividedBuckets(0, 3, 4) });
        RequestsFinished = factory.CreateCounter("moedapr_request_success_total", "Finished requests by finish reason and serving path.", "finished_reason", "path");
        WorkerFailures = factory.CreateCounter("moedapr_router_worker_failures_total", "Failed calls to workers.", "role");
        PrefixCachedTokens = factory.CreateCounter("moedapr_prefix_cached_prompt_tokens_total", "Prompt tokens whose KV came from a prefix cache.");
        PrefillRoutedBlocks = factory.CreateCounter("moedapr_router_prefill_routed_blocks_total", "Full prompt blocks sent to prefill workers.");
        PrefillRoutedOverlapBlocks = factory.CreateCounter("moedapr_router_prefill_routed_overlap_blocks_total", "Prompt blocks sent to a prefill worker the router believed to hold them (reported or routed there before).");
        PromptTokens = factory.CreateCounter("moedapr_prompt_tokens_total", "Prompt tokens of dispatched requests.");
        GenerationTokens = factory.CreateCounter("moedapr_generation_tokens_total", "Output tokens relayed to clients.");
        Degraded = factory.CreateGauge("moedapr_router_degraded", "1 while degraded mode is on.");
        QueueCapacity = factory.CreateGauge("moedapr_request_queue_capacity", "Requests the router's waiting queue holds at most.");
    }

    public Histogram TimeToFirstToken { get; }
    public Histogram InterTokenLatency { get; }
    public Histogram EndToEndLatency { get; }
    public Histogram QueueTime { get; }
    public Gauge Running { get; }
    public Gauge Waiting { get; }
    public Counter Rejections { get; }
    public Gauge BatchSize { get; }
    public Counter BatchSizeChanges { get; }
    public Histogram PrefillBatchRequests { get; }
    public Counter RequestsFinished { get; }
    public Counter WorkerFailures { get; }
    public Counter PrefixCachedTokens { get; }
    public Counter PrefillRoutedBlocks { get; }
    public Counter PrefillRoutedOverlapBlocks { get; }
    public Counter PromptTokens { get; }
    public Counter GenerationTokens { get; }
    public Gauge Degraded { get; }
    public Gauge QueueCapacity { get; }
}
