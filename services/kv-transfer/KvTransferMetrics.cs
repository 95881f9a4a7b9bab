using Prometheus;

namespace MoeDapr.KvTransfer;

/// <summary>kv-transfer's Prometheus metrics (names are documented in docs/kv-transfer.md).</summary>
public sealed class KvTransferMetrics
{
    private static readonly Counter Bytes = Metrics.CreateCounter(
        "moedapr_kv_transfer_bytes_total", "KV bytes moved, by data plane and direction (in = producer to staging, out = staging to consumer).", "plane", "direction");

    private static readonly Histogram Seconds = Metrics.CreateHistogram(
        "moedapr_kv_transfer_seconds", "Duration of one transfer step seen by kv-transfer (socket push/pull, shared-memory commit verification).",
        new HistogramConfiguration { LabelNames = ["plane", "op"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });

    private static readonly Counter Failures = Metrics.CreateCounter(
        "moedapr_kv_transfer_failures_total", "Transfers rejected and never served, by reason (truncated, checksum, header).", "reason");

    private static readonly Counter Rejections = Metrics.CreateCounter(
        "moedapr_kv_transfer_allocations_rejected_total", "Allocations refused, by reason (capacity, leases).", "reason");

    private static readonly Counter LeasesExpired = Metrics.CreateCounter(
        "moedapr_kv_transfer_lease_expired_total", "Allocations freed because nobody committed, renewed or released them in time.");

    private static readonly Counter PrefixBlocks = Metrics.CreateCounter(
        "moedapr_kv_transfer_prefix_blocks_total", "Prefix blocks asked for by locate-by-prefix, by result (hit, miss).", "result");

    private static readonly Gauge StagingInUse = Metrics.CreateGauge(
        "moedapr_kv_transfer_staging_bytes_in_use", "Staging bytes held by live allocations (page-rounded).");

    private static readonly Gauge StagingCapacity = Metrics.CreateGauge(
        "moedapr_kv_transfer_staging_bytes_capacity", "Staging bytes kv-transfer may hand out.");

    private static readonly Gauge LeasesActive = Metrics.CreateGauge(
        "moedapr_kv_transfer_leases_active", "Live allocations (allocated, committed or failed, not yet released or expired).");

    public void Transferred(string plane, string direction, long bytes, TimeSpan elapsed, string op)
    {
        Bytes.WithLabels(plane, direction).Inc(bytes);
        Seconds.WithLabels(plane, op).Observe(elapsed.TotalSeconds);
    }

    public void Failed(string reason) => Failures.WithLabels(reason).Inc();

    public void Rejected(string reason) => Rejections.WithLabels(reason).Inc();

    public void Expired(int count) => LeasesExpired.Inc(count);

    public void PrefixLookup(int hits, int misses)
    {
        PrefixBlocks.WithLabels("hit").Inc(hits);
        PrefixBlocks.WithLabels("miss").Inc(misses);
    }

    public void Staging(long inUse, long capacity, int leases)
    {
        StagingInUse.Set(inUse);
        StagingCapacity.Set(capacity);
        LeasesActive.Set(leases);
    }
}
