namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>deploy/prometheus: promtool accepts the rules and config, and the rule unit tests fire and silence every alert.</summary>
public sealed partial class PrometheusRulesTests
{
    private static readonly TimeSpan PromtoolTimeout = TimeSpan.FromSeconds(60);
    private static readonly string RulesDir = Path.Combine(RepositoryPaths.PrometheusDir, "rules");
    private static readonly string TestsDir = Path.Combine(RepositoryPaths.PrometheusDir, "tests");

    public static TheoryData<string> AlertNames()
    {
        var data = new TheoryData<string>();
        foreach (var alert in Alerts())
        {
            data.Add(Yaml.Scalar(alert, "alert")!);
        }

        return data;
    }

    [Fact]
    public async Task PromtoolCheckRules_RuleFiles_Succeed()
    {
        var result = await Promtool(["check", "rules", .. RuleFiles()], RepositoryPaths.Root);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolCheckConfig_LocalScrapeConfig_Succeeds()
    {
        var result = await Promtool(["check", "config", Path.Combine(RepositoryPaths.PrometheusDir, "prometheus.yml")], RepositoryPaths.Root);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task PromtoolTestRules_UnitTests_Succeed()
    {
        var result = await Promtool(["test", "rules", .. TestFiles()], RepositoryPaths.Root);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain("FAILED", result.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// The unit tests must catch an alert that never fires and one that always fires: each mutation of the
    /// alert's expression (everything else unchanged) has to make `promtool test rules` fail.
    /// </summary>
    [Theory]
    [MemberData(nameof(AlertNames))]
    public async Task PromtoolTestRules_AlertNeverOrAlwaysFiring_UnitTestsFail(string alertName)
    {
        var neverFires = await RunUnitTestsWithMutatedAlert(alertName, "vector(0) > 1");
        Assert.True(neverFires.ExitCode != 0, $"No unit test expects {alertName} to fire:\n{neverFires.Output}");
        Assert.Contains(alertName, neverFires.Output, StringComparison.Ordinal);

        var alwaysFires = await RunUnitTestsWithMutatedAlert(alertName, "vector(1)");
        Assert.True(alwaysFires.ExitCode != 0, $"No unit test expects {alertName} to stay silent:\n{alwaysFires.Output}");
        Assert.Contains(alertName, alwaysFires.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Alerts_NamedInTheIssue_ExistWithTheirThresholdsAndDurations()
    {
        var alerts = Alerts().ToDictionary(a => Yaml.Scalar(a, "alert")!, StringComparer.Ordinal);
        (string Name, string Threshold, string For)[] required =
        [
            ("ExpertOverloaded", "moe_expert_utilization > 0.95", "2m"),
            ("HighLoadImbalance", "moe_load_imbalance_gini > 0.5", "5m"),
            ("RoutingLatencyHigh", ") > 0.01", "1m"),
            ("ExpertCacheThrashing", "rate(moe_expert_cache_evictions_total[1m])) > 10", "3m"),
            ("WorkerDown", "== 0", "1m"),
            ("TTFTSLOBurnFast", "moedapr:ttft_slo_errors:ratio_rate5m", "2m"),
            ("QueueSaturated", "moedapr_router_rejections_total", "2m"),
            ("KVTransferFailures", "moedapr_kv_transfer_failures_total", "5m"),
        ];

        foreach (var (name, threshold, duration) in required)
        {
            Assert.True(alerts.TryGetValue(name, out var alert), $"alert {name} is missing");
            Assert.Contains(threshold, Collapse(Yaml.Scalar(alert, "expr")!), StringComparison.Ordinal);
            Assert.Equal(duration, Yaml.Scalar(alert, "for"));
        }

        Assert.Contains("histogram_quantile(0.99", Yaml.Scalar(alerts["RoutingLatencyHigh"], "expr"), StringComparison.Ordinal);
        Assert.Contains("up{", Yaml.Scalar(alerts["WorkerDown"], "expr"), StringComparison.Ordinal);
    }

    [Fact]
    public void Alerts_Every_HasSeveritySummaryAndAnExistingRunbookSection()
    {
        var anchors = RunbookAnchors();
        foreach (var alert in Alerts())
        {
            var name = Yaml.Scalar(alert, "alert");
            Assert.Contains(Yaml.Scalar(alert, "labels", "severity"), new[] { "page", "ticket", "warning" });
            Assert.False(string.IsNullOrWhiteSpace(Yaml.Scalar(alert, "annotations", "summary")), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(Yaml.Scalar(alert, "annotations", "description")), $"{name} has no description");
            var runbook = Yaml.Scalar(alert, "annotations", "runbook") ?? string.Empty;
            Assert.StartsWith("docs/runbook.md#", runbook, StringComparison.Ordinal);
            Assert.True(anchors.Contains(runbook["docs/runbook.md#".Length..]), $"{name}: docs/runbook.md has no section for {runbook}");
        }
    }

    [Fact]
    public void Rules_EveryExpressionAndRecordedName_IsListedInMetricsDoc()
    {
        var catalog = MetricsCatalog.Load(Path.Combine(RepositoryPaths.Docs, "metrics.md"));
        var problems = new List<string>();
        foreach (var rule in Rules())
        {
            var label = Yaml.Scalar(rule, "alert") ?? Yaml.Scalar(rule, "record");
            problems.AddRange(catalog.Undocumented(Yaml.Scalar(rule, "expr")!).Select(m => $"{label} reads {m}"));
            if (Yaml.Scalar(rule, "record") is { } recorded && !catalog.Documents(recorded))
            {
                problems.Add($"recording rule {recorded} is not listed");
            }
        }

        Assert.True(problems.Count == 0, "Not in docs/metrics.md: " + string.Join("; ", problems));
    }

    internal static IEnumerable<YamlMappingNode> Rules() =>
        RuleFiles().SelectMany(f => Yaml.Seq(Yaml.LoadSingle(f), "groups"))
            .SelectMany(g => Yaml.Seq(g, "rules"))
            .Cast<YamlMappingNode>();

    private static IEnumerable<YamlMappingNode> Alerts() => Rules().Where(r => Yaml.Get(r, "alert") is not null);

    private static string[] RuleFiles() => Directory.GetFiles(RulesDir, "*.yml").Order(StringComparer.Ordinal).ToArray();

    private static string[] TestFiles() => Directory.GetFiles(TestsDir, "*.yml").Order(StringComparer.Ordinal).ToArray();

    private static async Task<ProcessResult> RunUnitTestsWithMutatedAlert(string alertName, string expression)
    {
        // Same layout as deploy/prometheus (tests name ../rules/...), in a scratch folder.
        var scratch = Directory.CreateTempSubdirectory("moedapr-promtool-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(scratch, "rules"));
            Directory.CreateDirectory(Path.Combine(scratch, "tests"));
            var found = false;
            foreach (var ruleFile in RuleFiles())
            {
                var document = Yaml.LoadSingle(ruleFile);
                foreach (var alert in Yaml.Seq(document, "groups").SelectMany(g => Yaml.Seq(g, "rules")).Cast<YamlMappingNode>())
                {
                    if (Yaml.Scalar(alert, "alert") == alertName)
                    {
                        alert.Children[new YamlScalarNode("expr")] = new YamlScalarNode(expression);
                        found = true;
                    }
                }

                await File.WriteAllTextAsync(Path.Combine(scratch, "rules", Path.GetFileName(ruleFile)), Yaml.Serialize(document));
            }

            Assert.True(found, $"alert {alertName} not found");

            // Only the test cases about this alert: the verdict is theirs, and promtool runs far less.
            var tests = new List<string>();
            foreach (var testFile in TestFiles())
            {
                var document = Yaml.LoadSingle(testFile);
                var cases = Yaml.Seq(document, "tests")
                    .Where(t => Yaml.Seq(t, "alert_rule_test").Any(a => Yaml.Scalar(a, "alertname") == alertName))
                    .ToList();
                if (cases.Count == 0)
                {
                    continue;
                }

                document.Children[new YamlScalarNode("tests")] = new YamlSequenceNode(cases);
                var copy = Path.Combine(scratch, "tests", Path.GetFileName(testFile));
                await File.WriteAllTextAsync(copy, Yaml.Serialize(document));
                tests.Add(copy);
            }

            Assert.True(tests.Count > 0, $"No unit test in deploy/prometheus/tests checks {alertName}.");
            return await Promtool(["test", "rules", .. tests], scratch);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static Task<ProcessResult> Promtool(string[] arguments, string workingDirectory) =>
        ProcessRunner.RunAsync(
            ProcessRunner.FindOnPath("promtool", "test.sh installs it (apt-get install prometheus)."),
            arguments,
            workingDirectory,
            PromtoolTimeout);

    private static HashSet<string> RunbookAnchors()
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(RepositoryPaths.Docs, "runbook.md")))
        {
            var heading = Heading().Match(line);
            if (heading.Success)
            {
                anchors.Add(Slug(heading.Groups[1].Value));
            }
        }

        return anchors;
    }

    /// <summary>GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens.</summary>
    internal static string Slug(string heading) =>
        SlugDrop().Replace(heading.Trim().ToLowerInvariant(), string.Empty).Replace(' ', '-');

    private static string Collapse(string text) => Whitespace().Replace(text, " ");

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\p{L}\p{Nd} _-]")]
    private static partial Regex SlugDrop();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
