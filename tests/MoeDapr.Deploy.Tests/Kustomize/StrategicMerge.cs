namespace MoeDapr.Deploy.Tests.Kustomize;

/// <summary>
/// The part of Kubernetes strategic merge patch that deploy/k8s overlays use: mappings merge recursively, a null
/// value deletes a key, and lists merge by key where Kubernetes gives them one (containers and env by name,
/// volume mounts by mount path, ports by port number) and are replaced otherwise. For custom resources, which
/// have no schema, lists of mappings merge by the first key every item has among kustomize's associative keys.
/// </summary>
internal static class StrategicMerge
{
    // Merge keys of the built-in list fields the overlays may touch (from the Kubernetes API's patchMergeKey).
    private static readonly Dictionary<string, string> BuiltInMergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["imagePullSecrets"] = "name",
        ["volumeMounts"] = "mountPath",
    };

    // kustomize (kyaml) guesses a key for lists without a schema from these, in this order.
    private static readonly string[] AssociativeKeys = ["mountPath", "devicePath", "ip", "type", "topologyKey", "name", "containerPort"];

    public static void Apply(YamlMappingNode target, YamlMappingNode patch, bool builtInKind) =>
        MergeMap(target, patch, builtInKind, "$");

    private static void MergeMap(YamlMappingNode target, YamlMappingNode patch, bool builtIn, string path)
    {
        foreach (var (keyNode, value) in patch.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            if (key.StartsWith('$'))
            {
                throw new NotSupportedException($"{path}.{key}: patch directives are outside the supported kustomize subset.");
            }

            if (Yaml.IsNull(value))
            {
                target.Children.Remove(keyNode);
                continue;
            }

            if (!target.Children.TryGetValue(keyNode, out var existing) || Yaml.IsNull(existing))
            {
                target.Children[Yaml.Clone(keyNode)] = Yaml.Clone(value);
                continue;
            }

            switch (existing, value)
            {
                case (YamlMappingNode existingMap, YamlMappingNode patchMap):
                    MergeMap(existingMap, patchMap, builtIn, $"{path}.{key}");
                    break;
                case (YamlSequenceNode existingSeq, YamlSequenceNode patchSeq):
                    target.Children[keyNode] = MergeList(key, existingSeq, patchSeq, builtIn, $"{path}.{key}");
                    break;
                default:
                    target.Children[keyNode] = Yaml.Clone(value);
                    break;
            }
        }
    }

    private static YamlSequenceNode MergeList(string field, YamlSequenceNode target, YamlSequenceNode patch, bool builtIn, string path)
    {
        var mergeKey = builtIn ? BuiltInMergeKey(field, target, patch) : AssociativeKey(target, patch);
        if (mergeKey is null)
        {
            return (YamlSequenceNode)Yaml.Clone(patch);
        }

        var merged = (YamlSequenceNode)Yaml.Clone(target);
        foreach (var item in patch.Children.Cast<YamlMappingNode>())
        {
            var id = Yaml.Scalar(item, mergeKey)
                ?? throw new InvalidDataException($"{path}: a patch item has no '{mergeKey}', the list's merge key.");
            var match = merged.Children.Cast<YamlMappingNode>().FirstOrDefault(m => Yaml.Scalar(m, mergeKey) == id);
            if (match is null)
            {
                merged.Children.Add(Yaml.Clone(item));
            }
            else
            {
                MergeMap(match, item, builtIn, $"{path}[{mergeKey}={id}]");
            }
        }

        return merged;
    }

    private static string? BuiltInMergeKey(string field, YamlSequenceNode target, YamlSequenceNode patch)
    {
        if (BuiltInMergeKeys.TryGetValue(field, out var key))
        {
            return key;
        }

        // Container ports merge by containerPort, Service ports by port.
        if (field == "ports")
        {
            var items = target.Children.Concat(patch.Children).OfType<YamlMappingNode>().ToList();
            return items.All(i => Yaml.Get(i, "containerPort") is not null) ? "containerPort" : "port";
        }

        return null;
    }

    private static string? AssociativeKey(YamlSequenceNode target, YamlSequenceNode patch)
    {
        var items = target.Children.Concat(patch.Children).ToList();
        if (items.Count == 0 || !items.All(i => i is YamlMappingNode))
        {
            return null;
        }

        return AssociativeKeys.FirstOrDefault(k => items.All(i => Yaml.Get(i, k) is YamlScalarNode));
    }
}
