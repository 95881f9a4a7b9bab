namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>docs/metrics.md: every metric the issues name is listed, each row complete and well-formed.</summary>
public sealed class MetricsDocTests
{
    private static readonly MetricsCatalog Catalog = MetricsCatalog.Load(Path.Combine(RepositoryPaths.Docs, "metrics.md"));

    [Theory]
    [InlineData("moedapr_time_to_first_token_seconds", "histogram")]
    [InlineData("moedapr_inter_token_latency_seconds", "histogram")]
    [InlineData("moedapr_e2e_request_latency_seconds", "histogram")]
    [InlineData("moedapr_request_queue_time_seconds", "histogram")]
    [InlineData("moedapr_num_requests_running", "gauge")]
    [InlineData("moedapr_num_requests_waiting", "gauge")]
    [InlineData("moedapr_kv_cache_usage_ratio", "gauge")]
    [InlineData("moedapr_prefix_cache_hits_total", "counter")]
    [InlineData("moedapr_prefix_cache_queries_total", "counter")]
    [InlineData("moedapr_kv_transfer_bytes_total", "counter")]
    [InlineData("moedapr_kv_transfer_seconds", "histogram")]
    [InlineData("moedapr_kv_transfer_failures_total", "counter")]
    [InlineData("moedapr_router_rejections_total", "counter")]
    [InlineData("moedapr_batch_size", "gauge")]
    [InlineData("moe_expert_tokens_total", "counter")]
    [InlineData("moe_expert_utilization", "gauge")]
    [InlineData("moe_load_imbalance_gini", "gauge")]
    [InlineData("moe_routing_latency_seconds", "histogram")]
    [InlineData("moe_eplb_balancedness", "gauge")]
    [InlineData("moe_eplb_rebalances_total", "counter")]
    [InlineData("moe_expert_cache_evictions_total", "counter")]
    [InlineData("moedapr_device_memory_used_bytes", "gauge")]
    [InlineData("process_working_set_bytes", "gauge")]
    public void MetricsDoc_MetricNamedInTheIssues_IsListedWithItsType(string name, string type)
    {
        Assert.True(Catalog.Metrics.TryGetValue(name, out var doc), $"{name} is missing from docs/metrics.md");
        Assert.Equal(type, doc.Type);
    }

    [Theory]
    [InlineData("moedapr_router_rejections_total", "reason")]
    [InlineData("moe_expert_tokens_total", "layer,expert")]
    [InlineData("moe_expert_utilization", "layer,expert")]
    [InlineData("moe_load_imbalance_gini", "layer")]
    public void MetricsDoc_LabelledMetric_ListsItsLabels(string name, string labels)
    {
        Assert.Equal(labels.Split(','), Catalog.Metrics[name].Labels);
    }

    [Fact]
    public void MetricsDoc_EveryRow_IsCompleteAndFollowsPrometheusNaming()
    {
        string[] types = ["counter", "gauge", "histogram", "summary", "recording rule"];
        string[] exporters = ["router", "prefill", "decode", "kv-transfer", "Prometheus"];
        foreach (var doc in Catalog.Metrics.Values)
        {
            Assert.Matches(MetricsCatalog.ValidName(), doc.Name);
            Assert.Contains(doc.Type, types);
            Assert.False(string.IsNullOrWhiteSpace(doc.Unit), $"{doc.Name}: no unit");
            Assert.False(string.IsNullOrWhiteSpace(doc.Meaning), $"{doc.Name}: no meaning");
            Assert.True(
                doc.ExportedBy.Split(',').Select(e => e.Trim()).All(e => exporters.Contains(e)),
                $"{doc.Name}: 'exported by' must list services among {string.Join(", ", exporters)}, got '{doc.ExportedBy}'");
            Assert.Equal(doc.Type == "counter", doc.Name.EndsWith("_total", StringComparison.Ordinal));
            if (doc.Type == "recording rule")
            {
                Assert.Contains(':', doc.Name);
            }

            if (doc.Unit == "seconds" && doc.Type != "counter" && doc.Name != "process_start_time_seconds")
            {
                Assert.EndsWith("_seconds", doc.Name, StringComparison.Ordinal);
            }

            if (doc.Unit == "bytes")
            {
                Assert.Contains("_bytes", doc.Name, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Undocumented_QueryWithUnknownMetric_NamesIt()
    {
        var missing = Catalog.Undocumented("sum(rate(moedapr_time_to_first_token_seconds_bucket[5m])) / sum(moedapr_not_a_metric)");

        Assert.Equal(["moedapr_not_a_metric"], missing);
    }
}
