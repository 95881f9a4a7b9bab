using System.Globalization;

namespace MoeDapr.Deploy.Tests.Manifests;

/// <summary>deploy/dapr.yaml, the local Prometheus config, components/ and the Kubernetes manifests stay in step.</summary>
public sealed class DaprRunFileTests
{
    // app id → (app port, Dapr HTTP port, Dapr gRPC port): the ports users and the docs rely on.
    private static readonly Dictionary<string, (int App, int Http, int Grpc)> ExpectedPorts = new(StringComparer.Ordinal)
    {
        ["router"] = (8080, 3500, 50001),
        ["prefill"] = (5101, 3501, 50002),
        ["decode"] = (5102, 3502, 50003),
        ["kv-transfer"] = (5103, 3503, 50004),
    };

    [Fact]
    public void Apps_IdsAndPorts_AreTheDocumentedOnesAndNeverCollide()
    {
        var apps = DaprRunFile.Load().Apps;

        Assert.Equal(ExpectedPorts.Keys.Order(StringComparer.Ordinal), apps.Select(a => a.AppId).Order(StringComparer.Ordinal));
        foreach (var app in apps)
        {
            Assert.Equal(ExpectedPorts[app.AppId], (app.AppPort, app.DaprHttpPort, app.DaprGrpcPort));
        }

        var ports = apps.SelectMany(a => new[] { a.AppPort, a.DaprHttpPort, a.DaprGrpcPort }).ToList();
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    [Fact]
    public void Apps_Commands_RunTheServiceProjectOnItsAppPort()
    {
        foreach (var app in DaprRunFile.Load().Apps)
        {
            var dir = DaprRunFile.Resolve(app.AppDirPath);
            Assert.Equal(Path.Combine(RepositoryPaths.Root, "services", app.AppId), Path.TrimEndingDirectorySeparator(dir));
            Assert.Equal("dotnet", app.Command[0]);
            var project = app.Command[app.Command.ToList().IndexOf("--project") + 1];
            Assert.True(File.Exists(Path.Combine(dir, project)), $"{app.AppId}: {project} does not exist in {dir}");
            Assert.Equal($"http://localhost:{app.AppPort}", app.Env["ASPNETCORE_URLS"]);
        }
    }

    [Fact]
    public void Apps_AppIdsPortsAndHealthPaths_MatchTheKubernetesManifests()
    {
        var apps = DaprRunFile.Load().Apps.ToDictionary(a => a.AppId, StringComparer.Ordinal);

        foreach (var variant in RenderedManifests.Variants)
        {
            var manifests = RenderedManifests.Render(variant);
            Assert.Equal(apps.Keys.Order(StringComparer.Ordinal), manifests.AppIds.Values.Order(StringComparer.Ordinal));
            foreach (var deployment in manifests.Deployments)
            {
                var app = apps[RenderedManifests.Annotation(deployment, "dapr.io/app-id")!];
                Assert.Equal(app.AppPort.ToString(CultureInfo.InvariantCulture), RenderedManifests.Annotation(deployment, "dapr.io/app-port"));
                Assert.Equal(app.AppHealthCheckPath, RenderedManifests.Annotation(deployment, "dapr.io/app-health-check-path"));
                Assert.Equal(
                    new k8s.Models.ResourceQuantity(app.MaxBodySize).ToDecimal(),
                    new k8s.Models.ResourceQuantity(RenderedManifests.Annotation(deployment, "dapr.io/max-body-size")).ToDecimal());
            }
        }
    }

    [Fact]
    public void PrometheusConfig_ScrapesEveryAppOnItsAppPortWithTheAppIdAsJob()
    {
        var config = Yaml.LoadSingle(Path.Combine(RepositoryPaths.PrometheusDir, "prometheus.yml"));
        var apps = DaprRunFile.Load().Apps;
        var jobs = Yaml.Seq(config, "scrape_configs").ToDictionary(j => Yaml.Scalar(j, "job_name")!, StringComparer.Ordinal);

        Assert.Equal(apps.Select(a => a.AppId).Order(StringComparer.Ordinal), jobs.Keys.Order(StringComparer.Ordinal));
        foreach (var app in apps)
        {
            var job = jobs[app.AppId];
            Assert.Equal("/metrics", Yaml.Scalar(job, "metrics_path") ?? "/metrics");
            var target = Assert.Single(Yaml.Seq(Assert.Single(Yaml.Seq(job, "static_configs")), "targets"));
            Assert.Equal($"localhost:{app.AppPort}", ((YamlScalarNode)target).Value);
        }
    }

    [RequiresComponentsFolderFact]
    public void ResourcesAndConfigPaths_PointAtTheComponentsFolder()
    {
        var runFile = DaprRunFile.Load();

        Assert.Equal(RepositoryPaths.Components, DaprRunFile.Resolve(runFile.Common("resourcesPath")!));
        var configFile = DaprRunFile.Resolve(runFile.Common("configFilePath")!);
        var configuration = Yaml.LoadSingle(configFile);
        Assert.Equal("Configuration", Yaml.Scalar(configuration, "kind"));

        // Local runs and Kubernetes pods use the same Configuration name (dapr.io/config).
        var k8sConfig = RenderedManifests.Render("base").Deployments.Select(d => RenderedManifests.Annotation(d, "dapr.io/config")).Distinct().Single();
        Assert.Equal(k8sConfig, Yaml.Scalar(configuration, "metadata", "name"));
    }

    [RequiresComponentsFolderFact]
    public void ComponentsFolder_ComponentsAndScopes_MatchTheKubernetesComponents()
    {
        var local = ComponentFiles.Load().Where(r => Yaml.Scalar(r, "kind") == "Component").ToList();
        var appIds = DaprRunFile.Load().Apps.Select(a => a.AppId).ToHashSet(StringComparer.Ordinal);
        var cluster = RenderedManifests.Render("base").OfKind("Component").ToDictionary(c => Yaml.Scalar(c, "metadata", "name")!, StringComparer.Ordinal);

        foreach (var name in new[] { "pubsub", "statestore" })
        {
            var component = Assert.Single(local, c => Yaml.Scalar(c, "metadata", "name") == name);
            Assert.Equal(Yaml.Scalar(cluster[name], "spec", "type"), Yaml.Scalar(component, "spec", "type"));
        }

        foreach (var component in local)
        {
            var scopes = ComponentFiles.Scopes(component);
            Assert.All(scopes, s => Assert.Contains(s, appIds));
            var name = Yaml.Scalar(component, "metadata", "name")!;
            if (scopes.Count > 0 && cluster.TryGetValue(name, out var clusterComponent))
            {
                Assert.Equal(scopes.Order(StringComparer.Ordinal), ComponentFiles.Scopes(clusterComponent).Order(StringComparer.Ordinal));
            }
        }

        var statestore = local.Single(c => Yaml.Scalar(c, "metadata", "name") == "statestore");
        Assert.Contains(Yaml.Seq(statestore, "spec", "metadata"), m => Yaml.Scalar(m, "name") == "actorStateStore" && Yaml.Scalar(m, "value") == "true");
    }
}
