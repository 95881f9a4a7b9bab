using MoeDapr.Deploy.Tests.Manifests;

namespace MoeDapr.Deploy.Tests.Observability;

/// <summary>docs/runbook.md and docs/tuning.md point at things that exist: files, links, metrics, objects, ports.</summary>
public sealed partial class RunbookTests
{
    private static readonly string[] OperationsDocs = ["runbook.md", "tuning.md", "metrics.md"];

    public static TheoryData<string> Docs()
    {
        var data = new TheoryData<string>();
        foreach (var doc in OperationsDocs)
        {
            data.Add(doc);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Docs))]
    public void Doc_RepositoryPaths_Exist(string doc)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Docs, doc));
        // kubectl's deploy/<name> names a Deployment, not a folder.
        var deployments = RenderedManifests.Render("base").Deployments.Select(d => "deploy/" + d.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var missing = RepoPath().Matches(text)
            .Select(m => m.Groups[1].Value.TrimEnd('.', ','))
            .Where(p => !p.Contains('<', StringComparison.Ordinal) && !p.Contains('*', StringComparison.Ordinal) && !deployments.Contains(p))
            // components/ is written on another branch; its absence here is not the docs' fault.
            .Where(p => !p.StartsWith("components/", StringComparison.Ordinal) || Directory.Exists(RepositoryPaths.Components))
            .Where(p => !File.Exists(RepositoryPaths.Combine(p)) && !Directory.Exists(RepositoryPaths.Combine(p)))
            .Distinct()
            .ToList();

        Assert.True(missing.Count == 0, $"{doc} names paths that do not exist: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(Docs))]
    public void Doc_LinksToDocsAndAnchors_Resolve(string doc)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Docs, doc));
        foreach (Match link in MarkdownLink().Matches(text))
        {
            var file = link.Groups[1].Value.Length == 0 ? doc : link.Groups[1].Value;
            var path = Path.Combine(RepositoryPaths.Docs, file);
            if (file == "kv-transfer.md" && !File.Exists(path))
            {
                continue; // written with kv-transfer, on its own branch
            }

            Assert.True(File.Exists(path), $"{doc} links to {file}, which does not exist");
            if (link.Groups[2].Success)
            {
                var anchors = File.ReadLines(path).Select(l => Heading().Match(l)).Where(m => m.Success)
                    .Select(m => PrometheusRulesTests.Slug(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
                Assert.True(anchors.Contains(link.Groups[2].Value), $"{doc} links to {file}#{link.Groups[2].Value}, which has no such heading");
            }
        }
    }

    [Fact]
    public void Runbook_Queries_NameOnlyDocumentedMetrics()
    {
        var catalog = MetricsCatalog.Load(Path.Combine(RepositoryPaths.Docs, "metrics.md"));
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Docs, "runbook.md"));
        var queries = PromQlBlock().Matches(text).SelectMany(m => m.Groups[1].Value.Split('\n'))
            .Concat(QueryParameter().Matches(text).Select(m => m.Groups[1].Value))
            .Where(q => q.Trim().Length > 0 && !q.TrimStart().StartsWith('#'))
            .ToList();

        Assert.NotEmpty(queries);
        var undocumented = queries.SelectMany(catalog.Undocumented).Distinct().ToList();
        Assert.True(undocumented.Count == 0, $"runbook.md queries undocumented metrics: {string.Join(", ", undocumented)}");
    }

    [Fact]
    public void Runbook_KubectlTargetsAndLocalPorts_ExistInTheManifestsAndRunFile()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Docs, "runbook.md"));
        var manifests = RenderedManifests.Render("base");
        var deployments = manifests.Deployments.Select(d => d.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var scaledObjects = manifests.OfKind("ScaledObject").Select(s => Kustomize.Yaml.Scalar(s, "metadata", "name")!).ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(KubectlObject().Matches(text));
        foreach (Match m in KubectlObject().Matches(text))
        {
            var (kind, name) = (m.Groups[1].Value, m.Groups[2].Value);
            if (name.StartsWith('$') || name.StartsWith('<'))
            {
                continue;
            }

            Assert.Contains(name, kind == "scaledobject" ? scaledObjects : deployments);
        }

        foreach (Match m in KubectlContainer().Matches(text))
        {
            var container = m.Groups[1].Value;
            Assert.True(container is "daprd" or "$app" || deployments.Contains(container), $"no container {container}");
        }

        var apps = DaprRunFile.Load().Apps;
        var adminPorts = apps.SelectMany(a => a.Env.Where(e => e.Key.EndsWith("__AdminPort", StringComparison.Ordinal)))
            .Select(e => int.Parse(e.Value, System.Globalization.CultureInfo.InvariantCulture));
        var ports = apps.SelectMany(a => new[] { a.AppPort, a.DaprHttpPort }).Concat(adminPorts).Append(9090).ToHashSet();
        foreach (Match m in LocalPort().Matches(text))
        {
            Assert.Contains(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), ports);
        }
    }

    [Fact]
    public void Runbook_CoversDetectFallBackForensicsRestoreAndPostIncident()
    {
        var headings = File.ReadLines(Path.Combine(RepositoryPaths.Docs, "runbook.md"))
            .Where(l => l.StartsWith("## ", StringComparison.Ordinal)).ToList();

        Assert.Equal(["## 1. Detect", "## 2. Fall back", "## 3. Preserve forensics", "## 4. Restore", "## 5. Post-incident"], headings);
    }

    [GeneratedRegex(@"(?<![\w/.-])((?:deploy|docs|components|tools|services|tests)/[A-Za-z0-9_./-]*[A-Za-z0-9_/])")]
    private static partial Regex RepoPath();

    [GeneratedRegex(@"\]\(([A-Za-z0-9_.-]*\.md)?(?:#([a-z0-9-]+))?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex("```promql\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex PromQlBlock();

    [GeneratedRegex(@"--data-urlencode 'query=([^']+)'")]
    private static partial Regex QueryParameter();

    [GeneratedRegex(@"(?<=kubectl[^\n]*)\b(deploy|scaledobject)/([$<]?[A-Za-z0-9_-]+)")]
    private static partial Regex KubectlObject();

    [GeneratedRegex(@"-c (\$?[a-z0-9-]+)")]
    private static partial Regex KubectlContainer();

    [GeneratedRegex(@"localhost:(\d+)")]
    private static partial Regex LocalPort();
}
