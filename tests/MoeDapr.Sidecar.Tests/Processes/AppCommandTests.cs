using System.Diagnostics;

namespace MoeDapr.Sidecar.Tests.Processes;

/// <summary>The app command after "--" runs with dapr run's environment and lives and dies with the sidecar.</summary>
public sealed class AppCommandTests
{
    [Fact]
    public async Task AppCommand_GetsDaprEnvironment_AndIsStoppedWithTheSidecar()
    {
        using var components = Components.Create("memory");
        var marker = Path.Combine(components.Path, "env.txt");
        var (http, grpc, appPort) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
        var args = ProcessArgs.For("cmd-app", appPort, http, grpc, components.Path, ProcessArgs.NewRegistry(components));
        args.AddRange(["--", "sh", "-c", $"echo \"$APP_ID $APP_PORT $DAPR_HTTP_PORT $DAPR_GRPC_PORT $$\" > {marker}.tmp && mv {marker}.tmp {marker} && exec sleep 120"]);

        await using var sidecar = await Sidecars.StartProcessAsync(args);
        await Poll.UntilAsync(() => File.Exists(marker), Sidecars.Timeout, "the app command to start");
        var fields = (await File.ReadAllTextAsync(marker)).Trim().Split(' ');
        Assert.Equal(["cmd-app", appPort.ToString(System.Globalization.CultureInfo.InvariantCulture), http.ToString(System.Globalization.CultureInfo.InvariantCulture), grpc.ToString(System.Globalization.CultureInfo.InvariantCulture)], fields[..4]);
        var appPid = int.Parse(fields[4], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Directory.Exists($"/proc/{appPid}"));

        using (var term = Process.Start("kill", ["-TERM", sidecar.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await term.WaitForExitAsync();
        }

        Assert.True(sidecar.Process.WaitForExit(30_000));
        await Poll.UntilAsync(() => !Directory.Exists($"/proc/{appPid}") || File.ReadAllText($"/proc/{appPid}/stat").Contains(") Z ", StringComparison.Ordinal),
            Sidecars.Timeout, "the app process to stop");
    }

    [Fact]
    public async Task AppCommand_Exits_SidecarExitsWithItsCode()
    {
        using var components = Components.Create("memory");
        var args = ProcessArgs.For("short-app", null, 0, 0, components.Path, ProcessArgs.NewRegistry(components));
        args.AddRange(["--", "sh", "-c", "exit 3"]);

        await using var sidecar = await Sidecars.StartProcessAsync(args, waitHealthy: false);

        Assert.True(sidecar.Process.WaitForExit(30_000));
        Assert.Equal(3, sidecar.Process.ExitCode);
    }
}
