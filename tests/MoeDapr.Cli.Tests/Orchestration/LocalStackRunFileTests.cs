using YamlDotNet.RepresentationModel;

namespace MoeDapr.Cli.Tests.Orchestration;

/// <summary>The run file <c>moedapr up</c> writes for its flags: served names for the router, quiet logging for every app.</summary>
public sealed class LocalStackRunFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("moedapr-runfile-");
    private readonly ServiceBinaries _binaries;

    public LocalStackRunFileTests()
    {
        // Stand-in assemblies: the run file only names them.
        foreach (var (service, assembly) in ServiceBinaries.Assemblies)
        {
            var folder = Directory.CreateDirectory(Path.Combine(_dir.FullName, "bin", service));
            File.WriteAllText(Path.Combine(folder.FullName, assembly), string.Empty);
        }

        _binaries = ServiceBinaries.InFolder(Path.Combine(_dir.FullName, "bin"));
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private YamlMappingNode Write(LocalStackOptions options)
    {
        var work = Directory.CreateDirectory(Path.Combine(_dir.FullName, "work-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        var path = LocalStack.WriteRunFile(options, _binaries, work, new Dictionary<string, int>());
        var yaml = new YamlStream();
        using var reader = new StreamReader(path);
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Env(YamlMappingNode node) => (YamlMappingNode)node["env"];

    private static IEnumerable<YamlMappingNode> Apps(YamlMappingNode root) => ((YamlSequenceNode)root["apps"]).Children.Cast<YamlMappingNode>();

    private static string AppId(YamlMappingNode app) => ((YamlScalarNode)app["appID"]).Value!;

    private static Dictionary<string, string> Values(YamlMappingNode env) =>
        env.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => ((YamlScalarNode)kv.Value).Value!);

    [Fact]
    public void WriteRunFile_ServedModelNames_GivesThemToTheRouterOnly()
    {
        var root = Write(new LocalStackOptions { ModelDir = _dir.FullName, ServedModelNames = ["alpha", "org/beta"] });

        var router = Values(Env(Apps(root).Single(a => AppId(a) == "router")));
        Assert.Equal("alpha", router["Router__ServedModelNames__0"]);
        Assert.Equal("org/beta", router["Router__ServedModelNames__1"]);
        Assert.All(Apps(root).Where(a => AppId(a) != "router"),
            app => Assert.DoesNotContain(Values(Env(app)).Keys, k => k.StartsWith("Router__ServedModelNames", StringComparison.Ordinal)));
    }

    [Fact]
    public void WriteRunFile_Quiet_SetsTheQuietLogLevelsForEveryApp()
    {
        var common = Values(Env((YamlMappingNode)Write(new LocalStackOptions { ModelDir = _dir.FullName, Quiet = true })["common"]));

        Assert.All(ConsoleOutput.QuietLogLevels, level => Assert.Equal(level.Value, common[level.Key]));
    }

    [Fact]
    public void WriteRunFile_Verbose_LeavesLoggingToTheApps()
    {
        var common = Values(Env((YamlMappingNode)Write(new LocalStackOptions { ModelDir = _dir.FullName, Quiet = false })["common"]));

        Assert.DoesNotContain(common.Keys, k => k.StartsWith("Logging__", StringComparison.Ordinal));
    }

    [Fact]
    public void WriteRunFile_QuietWithExplicitLevel_KeepsTheCallersLevel()
    {
        var common = Values(Env((YamlMappingNode)Write(new LocalStackOptions
        {
            ModelDir = _dir.FullName,
            Quiet = true,
            Environment = new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Debug" },
        })["common"]));

        Assert.Equal("Debug", common["Logging__LogLevel__Default"]);
    }
}
