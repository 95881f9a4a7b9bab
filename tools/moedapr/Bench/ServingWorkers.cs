using System.Diagnostics;
using System.Globalization;
using MoeDapr.Cli.Orchestration;

namespace MoeDapr.Cli.Bench;

/// <summary>kv-transfer, prefill and decode as processes talking directly (no sidecar needed for the measurement).</summary>
internal sealed class ServingWorkers : IAsyncDisposable
{
    private readonly List<ServiceProcess> _processes = [];

    public Uri KvTransfer { get; private set; } = null!;

    public Uri Prefill { get; private set; } = null!;

    public Uri Decode { get; private set; } = null!;

    /// <summary>CPU seconds the decode process has used.</summary>
    public double DecodeCpu()
    {
        using var process = Process.GetProcessById(_processes[^1].Id);
        return process.TotalProcessorTime.TotalSeconds;
    }

    public async Task StartAsync(ServiceBinaries binaries, string model, CancellationToken cancellationToken)
    {
        var env = new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" };
        KvTransfer = await StartAsync(binaries, "kv-transfer", env, ["--KvTransfer:CapacityBytes=1073741824"], cancellationToken);
        string[] worker = ["--Model:Path=" + model, "--Worker:KvTransferUrl=" + KvTransfer];
        Prefill = await StartAsync(binaries, "prefill", env, worker, cancellationToken);
        Decode = await StartAsync(binaries, "decode", env, worker, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }

    private async Task<Uri> StartAsync(ServiceBinaries binaries, string service, Dictionary<string, string> env, string[] arguments, CancellationToken cancellationToken)
    {
        var dll = binaries.Find(service)!;
        var url = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture)}/");
        var process = ServiceProcess.Start(service, "dotnet", [dll, "--urls", url.ToString().TrimEnd('/'), .. arguments], Path.GetDirectoryName(dll)!, env);
        _processes.Add(process);
        using var http = new HttpClient();
        await process.WaitReadyAsync(http, new Uri(url, "health/ready"), TimeSpan.FromMinutes(3), cancellationToken);
        return url;
    }
}
