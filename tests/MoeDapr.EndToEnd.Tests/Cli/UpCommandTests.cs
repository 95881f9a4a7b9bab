using System.Diagnostics;
using System.Net.Sockets;

namespace MoeDapr.EndToEnd.Tests.Cli;

/// <summary><c>moedapr up</c> refusing bad input before it starts anything.</summary>
public sealed class UpCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Up_PortAlreadyTaken_FailsNamingThePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var (exitCode, output) = await RunCliAsync("up", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--model", Path.GetTempPath());

        Assert.Equal(2, exitCode);
        Assert.Contains($"--port: port {port} is already in use", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_FolderWithoutCheckpoint_FailsNamingTheModelOption()
    {
        var empty = Directory.CreateTempSubdirectory("moedapr-empty-");
        try
        {
            var (exitCode, output) = await RunCliAsync("up", "--port", ServiceProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--model", empty.FullName);

            Assert.Equal(2, exitCode);
            Assert.Contains("--model:", output, StringComparison.Ordinal);
            Assert.Contains("is not a usable checkpoint folder", output, StringComparison.Ordinal);
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunCliAsync(params string[] arguments)
    {
        var root = ServiceBinaries.FindRepositoryRoot(AppContext.BaseDirectory) ?? throw new DirectoryNotFoundException("no MoeDapr checkout above the tests");
        var cli = Path.Combine(root, "tools", "moedapr", "bin", ServiceBinaries.CurrentConfiguration(), "net10.0", "moedapr.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(cli);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
