namespace MoeDapr.Deploy.Tests.Manifests;

/// <summary>One app of deploy/dapr.yaml (`dapr run -f`).</summary>
internal sealed record DaprRunApp(
    string AppId,
    string AppDirPath,
    int AppPort,
    int DaprHttpPort,
    int DaprGrpcPort,
    IReadOnlyList<string> Command,
    string? AppHealthCheckPath,
    string MaxBodySize,
    IReadOnlyDictionary<string, string> Env);

/// <summary>deploy/dapr.yaml, read with the field names of the Dapr CLI's multi-app run file.</summary>
internal sealed class DaprRunFile
{
    private DaprRunFile(YamlMappingNode root, IReadOnlyList<DaprRunApp> apps)
    {
        Root = root;
        Apps = apps;
    }

    public static string FilePath => Path.Combine(RepositoryPaths.Deploy, "dapr.yaml");

    public YamlMappingNode Root { get; }

    public IReadOnlyList<DaprRunApp> Apps { get; }

    public string? Common(string key) => Yaml.Scalar(Root, "common", key);

    /// <summary>A path of the run file resolved the way the Dapr CLI does: relative to the file's folder.</summary>
    public static string Resolve(string relative) => Path.GetFullPath(Path.Combine(RepositoryPaths.Deploy, relative));

    public static DaprRunFile Load()
    {
        var root = Yaml.LoadSingle(FilePath);
        var apps = new List<DaprRunApp>();
        foreach (var app in Yaml.Seq(root, "apps").Cast<YamlMappingNode>())
        {
            var id = Yaml.Scalar(app, "appID") ?? throw new InvalidDataException("an app has no appID");
            apps.Add(new DaprRunApp(
                id,
                Yaml.Scalar(app, "appDirPath") ?? throw new InvalidDataException($"{id}: no appDirPath"),
                Port(app, "appPort", id),
                Port(app, "daprHTTPPort", id),
                Port(app, "daprGRPCPort", id),
                Yaml.Seq(app, "command").Cast<YamlScalarNode>().Select(n => n.Value!).ToList(),
                Yaml.Scalar(app, "appHealthCheckPath") ?? Yaml.Scalar(root, "common", "appHealthCheckPath"),
                // The Dapr CLI's default is 4Mi.
                Yaml.Scalar(app, "maxBodySize") ?? Yaml.Scalar(root, "common", "maxBodySize") ?? "4Mi",
                (Yaml.Map(app, "env") ?? new YamlMappingNode()).Children
                    .ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value!, StringComparer.Ordinal)));
        }

        return new DaprRunFile(root, apps);
    }

    private static int Port(YamlMappingNode app, string key, string id) =>
        int.TryParse(Yaml.Scalar(app, key), out var port) ? port : throw new InvalidDataException($"{id}: {key} is missing or not a number");
}
