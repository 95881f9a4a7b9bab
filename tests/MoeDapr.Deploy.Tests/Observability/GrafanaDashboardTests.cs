using System.Text.Json.Nodes;

namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>deploy/grafana dashboards: valid JSON, the panels operators need, and queries over documented metrics only.</summary>
public sealed partial class GrafanaDashboardTests
{
    private static readonly MetricsCatalog Catalog = MetricsCatalog.Load(Path.Combine(RepositoryPaths.Docs, "metrics.md"));

    public static TheoryData<string> Dashboards()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RepositoryPaths.Grafana, "*.json"))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public void Dashboard_EveryQuery_NamesOnlyMetricsListedInDocs(string file)
    {
        var dashboard = Load(file);
        var undocumented = new List<string>();
        foreach (var (title, expr) in Queries(dashboard))
        {
            undocumented.AddRange(Catalog.Undocumented(expr).Select(name => $"{name} (panel '{title}')"));
        }

        Assert.True(undocumented.Count == 0, $"{file} queries metrics missing from docs/metrics.md: {string.Join(", ", undocumented)}");
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public void Dashboard_Panels_HaveUniqueIdsLayoutAndDataSourceVariable(string file)
    {
        var dashboard = Load(file);
        var panels = Panels(dashboard).ToList();

        Assert.NotEmpty(panels);
        Assert.Equal(panels.Count, panels.Select(p => (int)p["id"]!).Distinct().Count());
        foreach (var panel in panels)
        {
            var title = (string?)panel["title"];
            Assert.False(string.IsNullOrWhiteSpace(title), "a panel has no title");
            Assert.True(panel["gridPos"] is JsonObject grid && grid["w"] is not null && grid["h"] is not null, $"panel '{title}' has no gridPos");
            foreach (var target in panel["targets"]?.AsArray() ?? [])
            {
                Assert.Equal("${datasource}", (string?)target!["datasource"]?["uid"]);
                Assert.False(string.IsNullOrWhiteSpace((string?)target["expr"]), $"panel '{title}' has a target without a query");
            }
        }

        var variables = dashboard["templating"]!["list"]!.AsArray().Select(v => (string?)v!["name"]).ToList();
        Assert.Contains("datasource", variables);
    }

    [Fact]
    public void OverviewDashboard_HasThePanelsTheRunbookPointsTo()
    {
        var panels = Panels(Load("moedapr-dashboard.json")).Where(p => (string?)p["type"] != "row").ToList();

        // Expert utilization as a heatmap over time, one row per expert.
        var heatmap = Assert.Single(panels, p => (string?)p["type"] == "heatmap");
        var heatmapTarget = heatmap["targets"]![0]!;
        Assert.Contains("moe_expert_utilization", (string?)heatmapTarget["expr"], StringComparison.Ordinal);
        Assert.Contains("by (expert)", (string?)heatmapTarget["expr"], StringComparison.Ordinal);
        Assert.Equal("{{expert}}", (string?)heatmapTarget["legendFormat"]);

        AssertPanelReads(panels, "Gini", "moe_load_imbalance_gini");
        AssertPanelReads(panels, "Tokens per second per expert", "moe_expert_tokens_total");
        AssertPanelReads(panels, "Memory per rank", "moedapr_device_memory_used_bytes");
        AssertPanelReads(panels, "Queue depth", "moedapr_num_requests_waiting");
        AssertQuantiles(panels, "Routing latency", "moe_routing_latency_seconds_bucket");
        AssertQuantiles(panels, "TTFT", "moedapr_time_to_first_token_seconds_bucket");
        AssertQuantiles(panels, "TPOT", "moedapr_inter_token_latency_seconds_bucket");
    }

    private static void AssertPanelReads(List<JsonNode> panels, string titlePart, string metric)
    {
        var panel = Assert.Single(panels, p => ((string?)p["title"])!.Contains(titlePart, StringComparison.Ordinal));
        Assert.Contains(panel["targets"]!.AsArray(), t => PromQl.MetricNames((string)t!["expr"]!).Contains(metric));
    }

    private static void AssertQuantiles(List<JsonNode> panels, string titlePart, string bucketMetric)
    {
        var panel = Assert.Single(panels, p => ((string?)p["title"])!.Contains(titlePart, StringComparison.Ordinal));
        var quantiles = panel["targets"]!.AsArray()
            .Select(t => (string)t!["expr"]!)
            .Where(e => e.Contains(bucketMetric, StringComparison.Ordinal))
            .Select(e => QuantileArgument().Match(e).Groups[1].Value)
            .ToList();
        Assert.Equal(["0.5", "0.95", "0.99"], quantiles);
    }

    private static JsonNode Load(string file) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Grafana, file)))
        ?? throw new InvalidDataException($"{file} is empty.");

    private static IEnumerable<JsonNode> Panels(JsonNode dashboard)
    {
        foreach (var panel in dashboard["panels"]!.AsArray())
        {
            yield return panel!;
            foreach (var nested in panel!["panels"]?.AsArray() ?? [])
            {
                yield return nested!;
            }
        }
    }

    private static IEnumerable<(string Title, string Expr)> Queries(JsonNode dashboard)
    {
        foreach (var panel in Panels(dashboard))
        {
            foreach (var target in panel["targets"]?.AsArray() ?? [])
            {
                yield return ((string?)panel["title"] ?? "?", (string)target!["expr"]!);
            }
        }

        foreach (var variable in dashboard["templating"]?["list"]?.AsArray() ?? [])
        {
            if ((string?)variable!["type"] == "query")
            {
                // label_values(metric, label): the metric is the first argument.
                var query = (string?)variable["query"]?["query"] ?? (string?)variable["query"] ?? string.Empty;
                var match = LabelValues().Match(query);
                yield return ($"variable {variable["name"]}", match.Success ? match.Groups[1].Value : query);
            }
        }
    }

    [GeneratedRegex(@"histogram_quantile\(\s*([0-9.]+)")]
    private static partial Regex QuantileArgument();

    [GeneratedRegex(@"^label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\)$")]
    private static partial Regex LabelValues();
}
