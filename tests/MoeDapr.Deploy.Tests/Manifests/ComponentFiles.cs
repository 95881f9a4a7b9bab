namespace MoeDapr.Deploy.Tests.Manifests;

/// <summary>The Dapr resources in the repository's components/ folder (top level, as `--resources-path` reads it).</summary>
internal static class ComponentFiles
{
    public static IReadOnlyList<YamlMappingNode> Load() =>
        Directory.GetFiles(RepositoryPaths.Components, "*.yaml")
            .Concat(Directory.GetFiles(RepositoryPaths.Components, "*.yml"))
            .Order(StringComparer.Ordinal)
            .SelectMany(Yaml.LoadAll)
            .ToList();

    public static IReadOnlyList<string> Scopes(YamlMappingNode resource) =>
        Yaml.Seq(resource, "scopes").Cast<YamlScalarNode>().Select(s => s.Value!).ToList();
}
