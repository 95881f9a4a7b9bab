using k8s;
using k8s.Models;

namespace MoeDapr.Deploy.Tests.Manifests;

/// <summary>
/// The objects one kustomization of deploy/k8s renders to: built-in kinds as typed Kubernetes objects (parsed
/// strictly, so a misspelt field fails), custom resources (Dapr, KEDA, Prometheus operator) as YAML trees.
/// </summary>
internal sealed class RenderedManifests
{
    /// <summary>apiVersion of every kind the manifests may contain.</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownKinds = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Deployment"] = "apps/v1",
        ["Service"] = "v1",
        ["PodDisruptionBudget"] = "policy/v1",
        ["Component"] = "dapr.io/v1alpha1",
        ["Configuration"] = "dapr.io/v1alpha1",
        ["Resiliency"] = "dapr.io/v1alpha1",
        ["ScaledObject"] = "keda.sh/v1alpha1",
        ["PodMonitor"] = "monitoring.coreos.com/v1",
        ["PrometheusRule"] = "monitoring.coreos.com/v1",
    };

    private static readonly Dictionary<string, RenderedManifests> Cache = new(StringComparer.Ordinal);

    private RenderedManifests(string variant, List<YamlMappingNode> objects)
    {
        Variant = variant;
        Objects = objects;
        Deployments = Typed<V1Deployment>("Deployment");
        Services = Typed<V1Service>("Service");
        DisruptionBudgets = Typed<V1PodDisruptionBudget>("PodDisruptionBudget");
    }

    /// <summary>Variants the tests render: the base and every overlay.</summary>
    public static IReadOnlyList<string> Variants { get; } = ["base", "overlays/cpu", "overlays/gpu"];

    public string Variant { get; }

    public IReadOnlyList<YamlMappingNode> Objects { get; }

    public IReadOnlyList<V1Deployment> Deployments { get; }

    public IReadOnlyList<V1Service> Services { get; }

    public IReadOnlyList<V1PodDisruptionBudget> DisruptionBudgets { get; }

    /// <summary>The Dapr app ids of the Deployments, by Deployment name.</summary>
    public IReadOnlyDictionary<string, string> AppIds =>
        Deployments.ToDictionary(d => d.Metadata.Name, d => Annotation(d, "dapr.io/app-id") ?? string.Empty, StringComparer.Ordinal);

    public static RenderedManifests Render(string variant)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(variant, out var manifests))
            {
                manifests = new RenderedManifests(variant, KustomizeRenderer.Render(Path.Combine(RepositoryPaths.Kubernetes, variant)));
                Cache[variant] = manifests;
            }

            return manifests;
        }
    }

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Objects.Where(o => Yaml.Scalar(o, "kind") == kind);

    public V1Deployment Deployment(string name) =>
        Deployments.SingleOrDefault(d => d.Metadata.Name == name) ?? throw new InvalidOperationException($"{Variant}: no Deployment {name}");

    public static string? Annotation(V1Deployment deployment, string key) =>
        deployment.Spec.Template.Metadata.Annotations is { } annotations && annotations.TryGetValue(key, out var value) ? value : null;

    /// <summary>The container that runs the app (named like its Deployment).</summary>
    public static V1Container AppContainer(V1Deployment deployment) =>
        deployment.Spec.Template.Spec.Containers.SingleOrDefault(c => c.Name == deployment.Metadata.Name)
        ?? throw new InvalidOperationException($"Deployment {deployment.Metadata.Name} has no container named like it.");

    /// <summary>Whether <paramref name="selector"/> (label equality) selects a pod with <paramref name="labels"/>.</summary>
    public static bool Selects(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && labels is not null &&
        selector.All(kv => labels.TryGetValue(kv.Key, out var value) && value == kv.Value);

    private List<T> Typed<T>(string kind) =>
        OfKind(kind).Select(o => KubernetesYaml.Deserialize<T>(Yaml.Serialize(o), strict: true)).ToList();
}
