using System.Globalization;
using MoeDapr.Sidecar.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MoeDapr.Sidecar.Cli;

/// <summary>
/// Reads the dapr run -f format: version: 1, common {resourcesPath(s), configFilePath, env, appProtocol, ...},
/// apps [{appID, appDirPath, appPort, command: [...], env, daprHTTPPort, daprGRPCPort, enableAppHealthCheck, appHealthCheckPath, ...}].
/// Relative paths in common resolve against the run file's folder, an app's against its appDirPath.
/// </summary>
public static class RunFile
{
    public static List<RunFileApp> Load(string path, Func<string, string?> environment)
    {
        if (!File.Exists(path))
        {
            throw new SidecarConfigurationException($"run file '{path}' does not exist.");
        }

        var baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(File.ReadAllText(path)));
        }
        catch (YamlException ex)
        {
            throw new SidecarConfigurationException($"run file {path}: malformed YAML at line {ex.Start.Line}: {ex.InnerException?.Message ?? ex.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new SidecarConfigurationException($"run file {path}: expected a mapping with 'version' and 'apps'.");
        }

        if (Scalar(root, "version") is not "1")
        {
            throw new SidecarConfigurationException($"run file {path}: 'version' must be 1.");
        }

        var common = Child(root, "common") as YamlMappingNode;
        if (Child(root, "apps") is not YamlSequenceNode apps || apps.Children.Count == 0)
        {
            throw new SidecarConfigurationException($"run file {path}: 'apps' must list at least one app.");
        }

        var result = new List<RunFileApp>();
        foreach (var node in apps.Children)
        {
            if (node is not YamlMappingNode app)
            {
                throw new SidecarConfigurationException($"run file {path}: every entry of 'apps' must be a mapping.");
            }

            var appId = Scalar(app, "appID") ?? throw new SidecarConfigurationException($"run file {path}: an app has no 'appID'.");
            var appDir = Path.GetFullPath(Scalar(app, "appDirPath") ?? ".", baseDir);
            var options = new SidecarOptions
            {
                AppId = appId,
                ApiToken = environment("DAPR_API_TOKEN") is { Length: > 0 } t ? t : null,
                AppApiToken = environment("APP_API_TOKEN") is { Length: > 0 } at ? at : null,
                HttpPort = 0,
                GrpcPort = 0,
            };
            Apply(common, baseDir, options, $"{path}: common");
            Apply(app, appDir, options, $"{path}: app '{appId}'");
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var source in new[] { common, app })
            {
                if (Child(source, "env") is YamlMappingNode envNode)
                {
                    foreach (var (key, value) in envNode.Children)
                    {
                        env[((YamlScalarNode)key).Value ?? ""] = (value as YamlScalarNode)?.Value ?? "";
                    }
                }
            }

            var command = Child(app, "command") switch
            {
                YamlSequenceNode sequence => sequence.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList(),
                YamlScalarNode { Value: { Length: > 0 } single } => [single],
                _ => new List<string>(),
            };
            result.Add(new RunFileApp(options, appDir, command, env));
        }

        var duplicate = result.GroupBy(a => a.Options.AppId, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new SidecarConfigurationException($"run file {path}: appID '{duplicate.Key}' appears more than once.");
        }

        return result;
    }

    private static void Apply(YamlMappingNode? node, string baseDir, SidecarOptions options, string where)
    {
        if (node is null)
        {
            return;
        }

        foreach (var key in new[] { "resourcesPath", "resourcesPaths", "componentsPath" })
        {
            switch (Child(node, key))
            {
                case YamlScalarNode { Value: { Length: > 0 } one }:
                    options.ResourcesPaths.Add(Path.GetFullPath(one, baseDir));
                    break;
                case YamlSequenceNode many:
                    options.ResourcesPaths.AddRange(many.Children.OfType<YamlScalarNode>().Select(s => Path.GetFullPath(s.Value ?? ".", baseDir)));
                    break;
            }
        }

        if (Scalar(node, "configFilePath") is { Length: > 0 } config)
        {
            options.ConfigPath = Path.GetFullPath(config, baseDir);
        }

        if (Scalar(node, "appPort") is { } appPort)
        {
            options.AppPort = Int(appPort, "appPort", where);
        }

        if (Scalar(node, "daprHTTPPort") is { } httpPort)
        {
            options.HttpPort = Int(httpPort, "daprHTTPPort", where);
        }

        if (Scalar(node, "daprGRPCPort") is { } grpcPort)
        {
            options.GrpcPort = Int(grpcPort, "daprGRPCPort", where);
        }

        if (Scalar(node, "appProtocol") is { } protocol)
        {
            options.AppProtocol = protocol;
        }

        if (Scalar(node, "appChannelAddress") is { } channel)
        {
            options.AppChannelAddress = channel;
        }

        if (Scalar(node, "enableAppHealthCheck") is { } health)
        {
            options.EnableAppHealthCheck = bool.TryParse(health, out var enabled) && enabled;
        }

        if (Scalar(node, "appHealthCheckPath") is { } healthPath)
        {
            options.AppHealthCheckPath = healthPath;
        }

        if (Scalar(node, "appHealthProbeInterval") is { } probeInterval)
        {
            options.AppHealthProbeInterval = TimeSpan.FromSeconds(Int(probeInterval, "appHealthProbeInterval", where));
        }

        if (Scalar(node, "appHealthThreshold") is { } threshold)
        {
            options.AppHealthThreshold = Int(threshold, "appHealthThreshold", where);
        }

        if (Scalar(node, "logLevel") is { } logLevel)
        {
            options.LogLevel = logLevel;
        }

        if (Scalar(node, "maxBodySize") is { } maxBody)
        {
            options.MaxBodySize = SidecarCommandLine.ParseSize($"{where}: maxBodySize", maxBody);
        }

        if (Scalar(node, "daprHTTPMaxRequestSize") is { } maxRequest)
        {
            options.MaxBodySize = Int(maxRequest, "daprHTTPMaxRequestSize", where) * 1024L * 1024L;
        }

        if (Scalar(node, "apiListenAddresses") is { } listen)
        {
            options.ListenAddress = listen.Split(',')[0].Trim();
        }
    }

    private static int Int(string text, string key, string where) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new SidecarConfigurationException($"{where}: '{key}' = '{text}' is not an integer.");

    private static YamlNode? Child(YamlMappingNode? node, string key) =>
        node?.Children.FirstOrDefault(c => c.Key is YamlScalarNode s && s.Value == key).Value;

    private static string? Scalar(YamlMappingNode? node, string key) => (Child(node, key) as YamlScalarNode)?.Value;
}
