using System.Collections.Concurrent;

namespace MoeDapr.Cli.Tests.Orchestration;

/// <summary>The sidecar host labels each app's output as <c>dapr run -f</c> does, so <c>moedapr up</c> can show whose line it is.</summary>
public sealed class SidecarAppOutputTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("moedapr-appout-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task RunFile_AppWritesToStdoutAndStderr_EachLineCarriesItsAppId()
    {
        var components = Directory.CreateDirectory(Path.Combine(_dir.FullName, "components")).FullName;
        var runFile = Path.Combine(_dir.FullName, "run.yaml");
        File.WriteAllText(runFile, $"""
            version: 1
            common:
              resourcesPath: "{components}"
            apps:
              - appID: echoer
                appDirPath: "{_dir.FullName}"
                daprHTTPPort: {ServiceProcess.FreePort()}
                daprGRPCPort: {ServiceProcess.FreePort()}
                command: ["sh", "-c", "echo hello; echo trouble >&2"]
            """);
        var lines = new ConcurrentQueue<string>();
        var sidecar = Path.Combine(AppContext.BaseDirectory, ServiceBinaries.Assemblies["sidecar"]);

        await using (var host = ServiceProcess.Start("sidecar host", "dotnet", [sidecar, "run", "-f", runFile, "--registry-path", Path.Combine(_dir.FullName, "registry")],
            _dir.FullName, new Dictionary<string, string>(), lines.Enqueue))
        {
            await Poll.UntilAsync(() => lines.Count(l => l.StartsWith("== APP - echoer == ", StringComparison.Ordinal)) >= 2, TimeSpan.FromSeconds(60), "both app lines");
        }

        var shown = lines.Select(ConsoleOutput.FormatLine).ToList();
        Assert.Contains("[echoer] hello", shown);
        Assert.Contains("[echoer] trouble", shown);
    }
}
