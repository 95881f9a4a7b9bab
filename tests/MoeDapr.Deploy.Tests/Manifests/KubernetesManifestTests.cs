using k8s.Models;
using MoeDapr.Deploy.Tests.Observability;

namespace MoeDapr.Deploy.Tests.Manifests;

/// <summary>What must hold in deploy/k8s, for the base and every rendered overlay.</summary>
public sealed partial class KubernetesManifestTests
{
    private static readonly string[] Apps = ["router", "prefill", "decode", "kv-transfer"];
    private static readonly string[] GpuApps = ["prefill", "decode"];

    public static TheoryData<string> Variants()
    {
        var data = new TheoryData<string>();
        foreach (var variant in RenderedManifests.Variants)
        {
            data.Add(variant);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Render_Variant_HasOnlyKnownKindsAndTheFourApps(string variant)
    {
        var manifests = RenderedManifests.Render(variant);

        foreach (var obj in manifests.Objects)
        {
            var kind = Yaml.Scalar(obj, "kind") ?? "(none)";
            Assert.True(RenderedManifests.KnownKinds.TryGetValue(kind, out var apiVersion), $"{variant}: unexpected kind {kind}");
            Assert.Equal(apiVersion, Yaml.Scalar(obj, "apiVersion"));
            Assert.False(string.IsNullOrEmpty(Yaml.Scalar(obj, "metadata", "name")), $"{variant}: a {kind} has no name");
        }

        Assert.Equal(Apps.Order(), manifests.Deployments.Select(d => d.Metadata.Name).Order());
        Assert.Equal(Apps.Order(), manifests.Services.Select(s => s.Metadata.Name).Order());
        Assert.Equal(Apps.Order(), manifests.DisruptionBudgets.Select(p => p.Metadata.Name).Order());
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Deployments_DaprAnnotations_PresentAndConsistent(string variant)
    {
        var manifests = RenderedManifests.Render(variant);
        var configurations = manifests.OfKind("Configuration").Select(c => Yaml.Scalar(c, "metadata", "name")).ToHashSet();

        foreach (var deployment in manifests.Deployments)
        {
            var name = deployment.Metadata.Name;
            string Require(string key) =>
                RenderedManifests.Annotation(deployment, key) is { Length: > 0 } value ? value : throw new Xunit.Sdk.XunitException($"{variant}/{name}: annotation {key} is missing");

            Assert.Equal("true", Require("dapr.io/enabled"));
            Assert.Equal(name, Require("dapr.io/app-id"));
            var http = Assert.Single(RenderedManifests.AppContainer(deployment).Ports, p => p.Name == "http");
            Assert.Equal(http.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), Require("dapr.io/app-port"));
            Assert.Contains(Require("dapr.io/config"), configurations);
            var bodyLimit = new ResourceQuantity(Require("dapr.io/max-body-size")).ToDecimal();
            Assert.True(bodyLimit >= 4 * 1024 * 1024, $"{name}: max-body-size below Dapr's 4Mi default");
            Assert.Equal("true", Require("dapr.io/enable-app-health-check"));
            Assert.Contains(Require("dapr.io/app-health-check-path"), new[] { "/health", "/health/ready" });
            Assert.Matches(SecretName(), Require("dapr.io/api-token-secret"));
            Assert.Matches(SecretName(), Require("dapr.io/app-token-secret"));
        }

        var ids = manifests.AppIds.Values.ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ModelServingDeployments_SetModelPath_TheSettingTheServicesRead(string variant)
    {
        var manifests = RenderedManifests.Render(variant);

        // router, prefill and decode all bind the "Model" section (Model:Path); kv-transfer holds no model.
        foreach (var app in new[] { "router", "prefill", "decode" })
        {
            var deployment = manifests.Deployments.Single(d => RenderedManifests.Annotation(d, "dapr.io/app-id") == app);
            var env = RenderedManifests.AppContainer(deployment).Env ?? [];
            Assert.Contains(env, e => e.Name == "Model__Path" && !string.IsNullOrEmpty(e.Value));
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Deployments_TokenSecrets_ReferencedByTheAppNotInlined(string variant)
    {
        var manifests = RenderedManifests.Render(variant);

        Assert.Empty(manifests.OfKind("Secret"));
        foreach (var deployment in manifests.Deployments)
        {
            var env = RenderedManifests.AppContainer(deployment).Env ?? [];
            foreach (var variable in env)
            {
                Assert.False(
                    SecretLike().IsMatch(variable.Name) && variable.Value is not null,
                    $"{variant}/{deployment.Metadata.Name}: {variable.Name} has an inline value; reference a Secret");
            }

            // The app checks the token daprd sends with the same secret daprd reads, and sends daprd's token.
            Assert.Equal(RenderedManifests.Annotation(deployment, "dapr.io/app-token-secret"), SecretOf(env, "APP_API_TOKEN"));
            Assert.Equal(RenderedManifests.Annotation(deployment, "dapr.io/api-token-secret"), SecretOf(env, "DAPR_API_TOKEN"));
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Deployments_ProbesAndResources_SetOnEveryContainer(string variant)
    {
        foreach (var deployment in RenderedManifests.Render(variant).Deployments)
        {
            var name = deployment.Metadata.Name;
            var container = RenderedManifests.AppContainer(deployment);
            Assert.Equal("/health/ready", container.ReadinessProbe?.HttpGet?.Path);
            Assert.Equal("/health", container.LivenessProbe?.HttpGet?.Path);
            Assert.Equal("http", container.ReadinessProbe!.HttpGet.Port.Value);
            Assert.Equal("http", container.LivenessProbe!.HttpGet.Port.Value);

            foreach (var c in deployment.Spec.Template.Spec.Containers)
            {
                foreach (var resource in new[] { "cpu", "memory" })
                {
                    Assert.True(c.Resources?.Requests?.ContainsKey(resource) == true, $"{variant}/{name}/{c.Name}: no {resource} request");
                    Assert.True(c.Resources?.Limits?.ContainsKey(resource) == true, $"{variant}/{name}/{c.Name}: no {resource} limit");
                    Assert.True(
                        c.Resources!.Requests[resource].ToDecimal() <= c.Resources.Limits[resource].ToDecimal(),
                        $"{variant}/{name}/{c.Name}: {resource} request above its limit");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ServicesAndDisruptionBudgets_SelectExactlyTheirDeploymentsPods(string variant)
    {
        var manifests = RenderedManifests.Render(variant);

        foreach (var deployment in manifests.Deployments)
        {
            var name = deployment.Metadata.Name;
            var podLabels = deployment.Spec.Template.Metadata.Labels;
            Assert.True(RenderedManifests.Selects(deployment.Spec.Selector.MatchLabels, podLabels), $"{variant}/{name}: selector misses its own pods");

            var others = manifests.Deployments.Where(d => d != deployment).Select(d => d.Spec.Template.Metadata.Labels).ToList();
            var service = manifests.Services.Single(s => s.Metadata.Name == name);
            Assert.True(RenderedManifests.Selects(service.Spec.Selector, podLabels), $"{variant}: Service {name} selects no pod of its Deployment");
            Assert.DoesNotContain(others, l => RenderedManifests.Selects(service.Spec.Selector, l));

            var http = RenderedManifests.AppContainer(deployment).Ports.Single(p => p.Name == "http");
            var servicePort = Assert.Single(service.Spec.Ports, p => p.Name == "http");
            Assert.Equal(http.ContainerPort, servicePort.Port);
            Assert.Equal("http", servicePort.TargetPort.Value);

            var budget = manifests.DisruptionBudgets.Single(p => p.Metadata.Name == name);
            Assert.True(RenderedManifests.Selects(budget.Spec.Selector.MatchLabels, podLabels), $"{variant}: PDB {name} misses its pods");
            Assert.DoesNotContain(others, l => RenderedManifests.Selects(budget.Spec.Selector.MatchLabels, l));
            Assert.NotNull(budget.Spec.MaxUnavailable ?? budget.Spec.MinAvailable);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Deployments_AntiAffinity_SpreadsReplicasOverNodes(string variant)
    {
        foreach (var deployment in RenderedManifests.Render(variant).Deployments)
        {
            var antiAffinity = deployment.Spec.Template.Spec.Affinity?.PodAntiAffinity;
            var terms = (antiAffinity?.PreferredDuringSchedulingIgnoredDuringExecution ?? []).Select(t => t.PodAffinityTerm)
                .Concat(antiAffinity?.RequiredDuringSchedulingIgnoredDuringExecution ?? [])
                .ToList();
            Assert.Contains(terms, t =>
                t.TopologyKey == "kubernetes.io/hostname" &&
                RenderedManifests.Selects(t.LabelSelector.MatchLabels, deployment.Spec.Template.Metadata.Labels));
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Deployments_Gpus_OnlyPrefillAndDecodeOfTheGpuOverlay(string variant)
    {
        foreach (var deployment in RenderedManifests.Render(variant).Deployments)
        {
            var resources = RenderedManifests.AppContainer(deployment).Resources;
            var wantsGpu = variant == "overlays/gpu" && GpuApps.Contains(deployment.Metadata.Name);
            Assert.Equal(wantsGpu, resources.Limits.ContainsKey("nvidia.com/gpu"));
            if (wantsGpu)
            {
                Assert.True(resources.Limits["nvidia.com/gpu"].ToDecimal() >= 1);
                // Extended resources cannot be overcommitted: a request, if given, equals the limit.
                if (resources.Requests.TryGetValue("nvidia.com/gpu", out var request))
                {
                    Assert.Equal(resources.Limits["nvidia.com/gpu"].ToDecimal(), request.ToDecimal());
                }

                Assert.Contains(deployment.Spec.Template.Spec.Tolerations ?? [], t => t.Key == "nvidia.com/gpu");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void DaprComponents_RedisPubSubAndActorStateStore_ScopedToKnownAppsWithSecretPasswords(string variant)
    {
        var manifests = RenderedManifests.Render(variant);
        var appIds = manifests.AppIds.Values.ToHashSet(StringComparer.Ordinal);
        var components = manifests.OfKind("Component").ToDictionary(c => Yaml.Scalar(c, "metadata", "name")!, StringComparer.Ordinal);

        Assert.Equal("pubsub.redis", Yaml.Scalar(components["pubsub"], "spec", "type"));
        Assert.Equal("state.redis", Yaml.Scalar(components["statestore"], "spec", "type"));
        Assert.Equal("true", MetadataValue(components["statestore"], "actorStateStore"));

        foreach (var (name, component) in components)
        {
            var scopes = ComponentFiles.Scopes(component);
            Assert.NotEmpty(scopes);
            Assert.All(scopes, s => Assert.Contains(s, appIds));
            foreach (var item in Yaml.Seq(component, "spec", "metadata"))
            {
                var key = Yaml.Scalar(item, "name") ?? string.Empty;
                if (SecretLike().IsMatch(key))
                {
                    Assert.Null(Yaml.Get(item, "value"));
                    Assert.NotNull(Yaml.Scalar(item, "secretKeyRef", "name"));
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Resiliency_TargetsAndPolicies_ReferToWhatExists(string variant)
    {
        var manifests = RenderedManifests.Render(variant);
        var resiliency = Assert.Single(manifests.OfKind("Resiliency"));
        var appIds = manifests.AppIds.Values.ToHashSet(StringComparer.Ordinal);
        var components = manifests.OfKind("Component").Select(c => Yaml.Scalar(c, "metadata", "name")).ToHashSet(StringComparer.Ordinal);
        var policies = Yaml.Map(resiliency, "spec", "policies")!;

        void AssertPolicies(YamlNode? target, string where)
        {
            foreach (var (kind, section) in new[] { ("timeout", "timeouts"), ("retry", "retries"), ("circuitBreaker", "circuitBreakers") })
            {
                if (Yaml.Scalar(target, kind) is { } policy)
                {
                    Assert.True(Yaml.Get(policies, section, policy) is not null, $"{where}: {kind} policy '{policy}' is not defined");
                }
            }
        }

        foreach (var (app, target) in Yaml.Map(resiliency, "spec", "targets", "apps")!.Children)
        {
            Assert.Contains(((YamlScalarNode)app).Value!, appIds);
            AssertPolicies(target, $"apps.{app}");
        }

        foreach (var (component, target) in Yaml.Map(resiliency, "spec", "targets", "components")!.Children)
        {
            Assert.Contains(((YamlScalarNode)component).Value, components);
            AssertPolicies(Yaml.Get(target, "inbound"), $"components.{component}.inbound");
            AssertPolicies(Yaml.Get(target, "outbound"), $"components.{component}.outbound");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void ScaledObjects_QueueDepthQueries_TargetExistingDeploymentsInTheirNamespace(string variant)
    {
        var manifests = RenderedManifests.Render(variant);
        var catalog = MetricsCatalog.Load(Path.Combine(RepositoryPaths.Docs, "metrics.md"));
        var scaled = manifests.OfKind("ScaledObject").ToList();

        Assert.Equal(GpuApps.Order(), scaled.Select(s => Yaml.Scalar(s, "spec", "scaleTargetRef", "name")).Order());
        foreach (var obj in scaled)
        {
            var target = manifests.Deployment(Yaml.Scalar(obj, "spec", "scaleTargetRef", "name")!);
            Assert.True(int.Parse(Yaml.Scalar(obj, "spec", "minReplicaCount")!) <= int.Parse(Yaml.Scalar(obj, "spec", "maxReplicaCount")!));
            var trigger = Assert.Single(Yaml.Seq(obj, "spec", "triggers"));
            Assert.Equal("prometheus", Yaml.Scalar(trigger, "type"));
            var query = Yaml.Scalar(trigger, "metadata", "query")!;
            Assert.Contains("moedapr_num_requests_waiting", PromQl.MetricNames(query));
            Assert.Empty(catalog.Undocumented(query));
            Assert.True(double.Parse(Yaml.Scalar(trigger, "metadata", "threshold")!, System.Globalization.CultureInfo.InvariantCulture) > 0);

            // A query that names another namespace would scale on someone else's queue.
            var queryNamespace = NamespaceMatcher().Match(query);
            Assert.True(queryNamespace.Success, $"{variant}: the query of ScaledObject {target.Metadata.Name} does not filter by namespace");
            var deployedTo = Yaml.Scalar(obj, "metadata", "namespace") ?? "moedapr";
            Assert.Equal(deployedTo, queryNamespace.Groups[1].Value);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void PodMonitor_ScrapesEveryAppWithTheAppIdAsJob(string variant)
    {
        var manifests = RenderedManifests.Render(variant);
        var monitor = Assert.Single(manifests.OfKind("PodMonitor"));
        var selector = Yaml.Map(monitor, "spec", "selector", "matchLabels")!.Children
            .ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value!);
        var jobLabel = Yaml.Scalar(monitor, "spec", "jobLabel")!;
        var endpoint = Assert.Single(Yaml.Seq(monitor, "spec", "podMetricsEndpoints"));

        Assert.Equal("/metrics", Yaml.Scalar(endpoint, "path"));
        foreach (var deployment in manifests.Deployments)
        {
            var labels = deployment.Spec.Template.Metadata.Labels;
            Assert.True(RenderedManifests.Selects(selector, labels), $"{variant}: the PodMonitor does not select {deployment.Metadata.Name}");
            // The alert rules select on job="<app id>".
            Assert.Equal(RenderedManifests.Annotation(deployment, "dapr.io/app-id"), labels[jobLabel]);
            Assert.Contains(RenderedManifests.AppContainer(deployment).Ports, p => p.Name == Yaml.Scalar(endpoint, "port"));
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void PrometheusRule_Groups_EqualTheRulesFile(string variant)
    {
        var rule = Assert.Single(RenderedManifests.Render(variant).OfKind("PrometheusRule"));
        var file = Yaml.LoadSingle(Path.Combine(RepositoryPaths.PrometheusDir, "rules", "moedapr.yml"));

        var difference = Yaml.FirstDifference(Yaml.ToPlain(Yaml.Get(file, "groups")), Yaml.ToPlain(Yaml.Get(rule, "spec", "groups")));

        Assert.True(difference is null, $"deploy/k8s/base/prometheus-rule.yaml differs from deploy/prometheus/rules/moedapr.yml at {difference}");
    }

    [Fact]
    public void Overlays_Namespaces_DifferAndCoverEveryNamespacedObject()
    {
        var cpu = RenderedManifests.Render("overlays/cpu");
        var gpu = RenderedManifests.Render("overlays/gpu");

        Assert.All(cpu.Objects, o => Assert.Equal("moedapr-dev", Yaml.Scalar(o, "metadata", "namespace")));
        Assert.All(gpu.Objects, o => Assert.Equal("moedapr", Yaml.Scalar(o, "metadata", "namespace")));
        Assert.All(cpu.Deployments, d => Assert.Equal(1, d.Spec.Replicas));
    }

    private static string? SecretOf(IEnumerable<V1EnvVar> env, string name) =>
        env.SingleOrDefault(e => e.Name == name)?.ValueFrom?.SecretKeyRef?.Name;

    private static string? MetadataValue(YamlMappingNode component, string name) =>
        Yaml.Seq(component, "spec", "metadata").Where(m => Yaml.Scalar(m, "name") == name).Select(m => Yaml.Scalar(m, "value")).SingleOrDefault();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex SecretName();

    [GeneratedRegex("(?i)password|token|secret|apikey|api_key|credential")]
    private static partial Regex SecretLike();

    [GeneratedRegex("namespace=\"([^\"]+)\"")]
    private static partial Regex NamespaceMatcher();
}
