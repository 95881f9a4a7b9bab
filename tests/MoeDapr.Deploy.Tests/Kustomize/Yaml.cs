namespace MoeDapr.Deploy.Tests.Kustomize;

/// <summary>Loading, copying, navigating and writing YAML node trees (scalar styles are kept, so "8080" stays a string).</summary>
internal static class Yaml
{
    /// <summary>Every non-empty document of a (multi-document) YAML file, each a mapping.</summary>
    public static List<YamlMappingNode> LoadAll(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        var documents = new List<YamlMappingNode>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlMappingNode map)
            {
                documents.Add(map);
            }
            else if (!IsNull(document.RootNode))
            {
                throw new InvalidDataException($"{path}: a document is not a mapping ({document.RootNode.NodeType}).");
            }
        }

        return documents;
    }

    /// <summary>The single mapping document of <paramref name="path"/>.</summary>
    public static YamlMappingNode LoadSingle(string path)
    {
        var documents = LoadAll(path);
        return documents.Count == 1
            ? documents[0]
            : throw new InvalidDataException($"{path}: expected one YAML document, found {documents.Count}.");
    }

    public static string Serialize(YamlNode node)
    {
        using var writer = new StringWriter();
        new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    public static YamlNode Clone(YamlNode node) => node switch
    {
        YamlScalarNode s => new YamlScalarNode(s.Value) { Style = s.Style, Tag = s.Tag },
        YamlSequenceNode seq => new YamlSequenceNode(seq.Children.Select(Clone)) { Style = seq.Style },
        YamlMappingNode map => CloneMap(map),
        _ => throw new NotSupportedException($"YAML node {node.NodeType} (aliases are not used in deploy/)."),
    };

    public static YamlMappingNode CloneMap(YamlMappingNode map)
    {
        var copy = new YamlMappingNode { Style = map.Style };
        foreach (var (key, value) in map.Children)
        {
            copy.Children.Add(Clone(key), Clone(value));
        }

        return copy;
    }

    public static bool IsNull(YamlNode? node) =>
        node is null ||
        (node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any } s &&
         (s.Value is null or "" or "~" or "null" or "Null" or "NULL"));

    /// <summary>The node at <paramref name="path"/> (mapping keys), or null where any step is missing.</summary>
    public static YamlNode? Get(YamlNode? node, params string[] path)
    {
        foreach (var step in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(step), out node))
            {
                return null;
            }
        }

        return node;
    }

    public static string? Scalar(YamlNode? node, params string[] path) => (Get(node, path) as YamlScalarNode)?.Value;

    public static YamlMappingNode? Map(YamlNode? node, params string[] path) => Get(node, path) as YamlMappingNode;

    public static IReadOnlyList<YamlNode> Seq(YamlNode? node, params string[] path) =>
        Get(node, path) is YamlSequenceNode seq ? seq.Children.ToList() : [];

    /// <summary>The mapping at <paramref name="path"/>, created (with its parents) when missing.</summary>
    public static YamlMappingNode EnsureMap(YamlMappingNode node, params string[] path)
    {
        foreach (var step in path)
        {
            var key = new YamlScalarNode(step);
            if (!node.Children.TryGetValue(key, out var child) || IsNull(child))
            {
                child = new YamlMappingNode();
                node.Children[key] = child;
            }

            node = child as YamlMappingNode
                ?? throw new InvalidDataException($"'{step}' is a {child.NodeType}, expected a mapping.");
        }

        return node;
    }

    /// <summary>A plain tree of the node: dictionaries, lists and strings (for comparing documents).</summary>
    public static object? ToPlain(YamlNode? node) => node switch
    {
        null => null,
        YamlScalarNode s when IsNull(s) => null,
        YamlScalarNode s => s.Value,
        YamlSequenceNode seq => seq.Children.Select(ToPlain).ToList(),
        YamlMappingNode map => map.Children.ToDictionary(
            kv => ((YamlScalarNode)kv.Key).Value ?? string.Empty, kv => ToPlain(kv.Value), StringComparer.Ordinal),
        _ => throw new NotSupportedException(node.NodeType.ToString()),
    };

    /// <summary>Deep equality of two plain trees from <see cref="ToPlain"/>; returns the path of the first difference.</summary>
    public static string? FirstDifference(object? expected, object? actual, string path = "$")
    {
        switch (expected, actual)
        {
            case (null, null):
                return null;
            case (string a, string b):
                return a == b ? null : $"{path}: '{a}' vs '{b}'";
            case (List<object?> a, List<object?> b):
                if (a.Count != b.Count)
                {
                    return $"{path}: {a.Count} items vs {b.Count}";
                }

                for (var i = 0; i < a.Count; i++)
                {
                    if (FirstDifference(a[i], b[i], $"{path}[{i}]") is { } diff)
                    {
                        return diff;
                    }
                }

                return null;
            case (Dictionary<string, object?> a, Dictionary<string, object?> b):
                foreach (var key in a.Keys.Union(b.Keys))
                {
                    if (!a.TryGetValue(key, out var va) || !b.TryGetValue(key, out var vb))
                    {
                        return $"{path}.{key}: present on one side only";
                    }

                    if (FirstDifference(va, vb, $"{path}.{key}") is { } diff)
                    {
                        return diff;
                    }
                }

                return null;
            default:
                return $"{path}: {expected?.GetType().Name ?? "null"} vs {actual?.GetType().Name ?? "null"}";
        }
    }
}
