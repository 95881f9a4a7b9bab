namespace MoeDapr.Deploy.Tests.Kustomize;

/// <summary>
/// Renders a kustomization folder the way <c>kubectl apply -k</c> would, for the subset of kustomize that
/// deploy/k8s uses (kubectl and kustomize are not installed where the tests run): <c>resources</c> (files and
/// folders with their own kustomization), <c>patches</c> (strategic merge patches given by <c>path</c>),
/// <c>namespace</c> and <c>commonLabels</c>. Any other field is an error, so the manifests stay within what is checked.
/// </summary>
internal static class KustomizeRenderer
{
    private static readonly HashSet<string> SupportedFields = ["apiVersion", "kind", "resources", "patches", "namespace", "commonLabels"];

    private static readonly HashSet<string> ClusterScopedKinds =
    [
        "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
        "StorageClass", "PriorityClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    ];

    // Built-in kinds whose lists merge with Kubernetes' merge keys (custom resources have no schema).
    private static readonly HashSet<string> BuiltInGroups = ["", "apps", "policy", "batch", "autoscaling"];

    private static readonly HashSet<string> PodTemplateKinds = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"];

    /// <summary>The objects the kustomization in <paramref name="directory"/> produces, in order.</summary>
    public static List<YamlMappingNode> Render(string directory)
    {
        var file = Path.Combine(directory, "kustomization.yaml");
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"No kustomization.yaml in {directory}.", file);
        }

        var kustomization = Yaml.LoadSingle(file);
        foreach (var key in kustomization.Children.Keys.Cast<YamlScalarNode>().Select(k => k.Value!))
        {
            if (!SupportedFields.Contains(key))
            {
                throw new NotSupportedException(
                    $"{file}: '{key}' is outside the kustomize subset the tests render ({string.Join(", ", SupportedFields)}).");
            }
        }

        if (Yaml.Scalar(kustomization, "kind") is { } kind && kind != "Kustomization")
        {
            throw new InvalidDataException($"{file}: kind is '{kind}', expected Kustomization.");
        }

        var objects = new List<YamlMappingNode>();
        foreach (var entry in Yaml.Seq(kustomization, "resources").Cast<YamlScalarNode>().Select(n => n.Value!))
        {
            var path = Path.GetFullPath(Path.Combine(directory, entry));
            if (Directory.Exists(path))
            {
                objects.AddRange(Render(path));
            }
            else if (File.Exists(path))
            {
                objects.AddRange(Yaml.LoadAll(path));
            }
            else
            {
                throw new FileNotFoundException($"{file}: resource '{entry}' does not exist.", path);
            }
        }

        EnsureUniqueIds(objects, file);

        foreach (var patchEntry in Yaml.Seq(kustomization, "patches"))
        {
            ApplyPatch(objects, patchEntry, directory, file);
        }

        if (Yaml.Scalar(kustomization, "namespace") is { Length: > 0 } ns)
        {
            foreach (var obj in objects.Where(o => !ClusterScopedKinds.Contains(Yaml.Scalar(o, "kind") ?? string.Empty)))
            {
                Yaml.EnsureMap(obj, "metadata").Children[new YamlScalarNode("namespace")] = new YamlScalarNode(ns);
            }
        }

        if (Yaml.Map(kustomization, "commonLabels") is { } labels)
        {
            foreach (var obj in objects)
            {
                AddCommonLabels(obj, labels);
            }
        }

        return objects;
    }

    /// <summary>kind/name (with the API group) that kustomize identifies an object by.</summary>
    public static string IdOf(YamlMappingNode obj) =>
        $"{Group(Yaml.Scalar(obj, "apiVersion"))}/{Yaml.Scalar(obj, "kind")}/{Yaml.Scalar(obj, "metadata", "name")}";

    private static void ApplyPatch(List<YamlMappingNode> objects, YamlNode entry, string directory, string file)
    {
        if (entry is not YamlMappingNode map || map.Children.Count != 1 || Yaml.Scalar(map, "path") is not { } relative)
        {
            throw new NotSupportedException($"{file}: only patches given as '- path: FILE' (strategic merge) are supported.");
        }

        var patchFile = Path.GetFullPath(Path.Combine(directory, relative));
        var patch = Yaml.LoadSingle(patchFile);
        var id = IdOf(patch);
        var target = objects.SingleOrDefault(o => IdOf(o) == id)
            ?? throw new InvalidDataException($"{patchFile}: no resource {id} to patch.");
        var builtIn = BuiltInGroups.Contains(Group(Yaml.Scalar(patch, "apiVersion")));
        StrategicMerge.Apply(target, patch, builtIn);
    }

    private static void AddCommonLabels(YamlMappingNode obj, YamlMappingNode labels)
    {
        var kind = Yaml.Scalar(obj, "kind") ?? string.Empty;
        AddLabels(Yaml.EnsureMap(obj, "metadata", "labels"), labels);

        // Where kustomize's commonLabels field specs reach into selectors and pod templates.
        if (PodTemplateKinds.Contains(kind))
        {
            AddLabels(Yaml.EnsureMap(obj, "spec", "selector", "matchLabels"), labels);
            AddLabels(Yaml.EnsureMap(obj, "spec", "template", "metadata", "labels"), labels);
            foreach (var affinity in new[] { "podAffinity", "podAntiAffinity" })
            {
                var root = Yaml.Get(obj, "spec", "template", "spec", "affinity", affinity);
                foreach (var term in Yaml.Seq(root, "preferredDuringSchedulingIgnoredDuringExecution"))
                {
                    if (Yaml.Map(term, "podAffinityTerm", "labelSelector", "matchLabels") is { } matchLabels)
                    {
                        AddLabels(matchLabels, labels);
                    }
                }

                foreach (var term in Yaml.Seq(root, "requiredDuringSchedulingIgnoredDuringExecution"))
                {
                    if (Yaml.Map(term, "labelSelector", "matchLabels") is { } matchLabels)
                    {
                        AddLabels(matchLabels, labels);
                    }
                }
            }
        }
        else if (kind == "Service")
        {
            AddLabels(Yaml.EnsureMap(obj, "spec", "selector"), labels);
        }
        else if (kind == "PodDisruptionBudget" && Yaml.Map(obj, "spec", "selector", "matchLabels") is { } pdbLabels)
        {
            AddLabels(pdbLabels, labels);
        }
    }

    private static void AddLabels(YamlMappingNode target, YamlMappingNode labels)
    {
        foreach (var (key, value) in labels.Children)
        {
            target.Children[Yaml.Clone(key)] = Yaml.Clone(value);
        }
    }

    private static void EnsureUniqueIds(List<YamlMappingNode> objects, string file)
    {
        var duplicate = objects.GroupBy(IdOf).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidDataException($"{file}: {duplicate.Key} is defined {duplicate.Count()} times.");
        }
    }

    private static string Group(string? apiVersion) =>
        apiVersion is null || !apiVersion.Contains('/', StringComparison.Ordinal) ? string.Empty : apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)];
}
