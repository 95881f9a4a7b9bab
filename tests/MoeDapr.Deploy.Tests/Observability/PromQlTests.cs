namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>The metric-name extraction the dashboard and rule checks rely on.</summary>
public sealed class PromQlTests
{
    [Theory]
    [InlineData("sum by (expert) (rate(moe_expert_tokens_total{layer=~\"$layer\"}[$__rate_interval]))", "moe_expert_tokens_total")]
    [InlineData("histogram_quantile(0.99, sum by (job, le) (rate(moe_routing_latency_seconds_bucket{job=\"decode\"}[1m]))) > 0.01", "moe_routing_latency_seconds_bucket")]
    [InlineData("up{job=~\"router|prefill\"} == 0", "up")]
    [InlineData("sum(moedapr_num_requests_waiting{namespace=\"moedapr\",job=\"router\"}) or vector(0)", "moedapr_num_requests_waiting")]
    [InlineData("moedapr:ttft_slo_errors:ratio_rate5m > (14.4 * 0.01) and moedapr:ttft_slo_errors:ratio_rate1h > 1e-2", "moedapr:ttft_slo_errors:ratio_rate1h,moedapr:ttft_slo_errors:ratio_rate5m")]
    [InlineData("a_total / on (instance) group_left (rank) b_bytes offset 5m", "a_total,b_bytes")]
    [InlineData("label_replace(x_seconds, \"dst\", \"$1\", \"src\", \"(.*)\")", "x_seconds")]
    public void MetricNames_Expression_FindsExactlyTheSeriesRead(string expression, string expected)
    {
        var names = PromQl.MetricNames(expression).Order(StringComparer.Ordinal);

        Assert.Equal(expected.Split(','), names);
    }
}
