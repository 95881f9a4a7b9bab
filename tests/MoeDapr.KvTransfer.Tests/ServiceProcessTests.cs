using System.Diagnostics;
using System.Text.RegularExpressions;
using static MoeDapr.KvTransfer.Tests.TestSupport;

namespace MoeDapr.KvTransfer.Tests;

/// <summary>kv-transfer as its own process: the shared-memory plane across two processes, and recovery after a crash.</summary>
public sealed partial class ServiceProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "moedapr-kv-proc-" + Guid.NewGuid().ToString("N"))).FullName;
    private readonly List<Process> _started = [];

    public void Dispose()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(10_000);
            }

            process.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();

    private async Task<(Process Process, Uri Url)> StartAsync()
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MoeDapr.KvTransfer.dll"));
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["KvTransfer__HostId"] = KvTransferFactory.HostId;
        start.Environment["KvTransfer__CapacityBytes"] = (32L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["KvTransfer__SharedMemoryDirectory"] = _directory;
        var process = Process.Start(start)!;
        _started.Add(process);
        _ = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                _ = process.StandardOutput.ReadToEndAsync();
                return (process, new Uri(match.Groups[1].Value + "/"));
            }
        }

        throw new InvalidOperationException($"kv-transfer exited with {process.ExitCode} before listening");
    }

    private static KvTransferClient Client(Uri url, bool sharedMemory) =>
        new(new KvTransferHttpControl(new HttpClient { BaseAddress = url }), new KvTransferClientOptions { HostId = KvTransferFactory.HostId, Requester = "tests", UseSharedMemory = sharedMemory });

    [Fact]
    public async Task SeparateProcess_SharedMemoryAndSocketRoundTrips_AndACrashedArenaIsReclaimedOnRestart()
    {
        var (first, url) = await StartAsync();
        using (var shm = Client(url, sharedMemory: true))
        using (var socket = Client(url, sharedMemory: false))
        {
            var payload = Payload(LayoutOfMiB(2), seed: 31);
            await using var writer = await shm.AllocateAsync(LayoutOfMiB(2), null, CancellationToken.None);
            writer.Write(payload);
            await writer.CommitAsync(CancellationToken.None);

            await using var mapped = await shm.OpenReadAsync(writer.Handle, CancellationToken.None);
            await using var pulled = await socket.OpenReadAsync(writer.Handle, CancellationToken.None);

            Assert.Equal(KvDataPlane.SharedMemory, writer.Plane);
            Assert.True(mapped.GetSpan(0, payload.Length).SequenceEqual(payload));
            Assert.Equal(KvDataPlane.Socket, pulled.Plane);
            Assert.True(pulled.GetSpan(0, payload.Length).SequenceEqual(payload));
        }

        var arena = Assert.Single(Directory.GetFiles(_directory, "*.arena"));
        first.Kill(); // a crash: no shutdown, the arena stays in tmpfs
        await first.WaitForExitAsync();
        Assert.True(File.Exists(arena));

        await StartAsync();

        Assert.False(File.Exists(arena));
        Assert.Single(Directory.GetFiles(_directory, "*.arena"));
    }
}
