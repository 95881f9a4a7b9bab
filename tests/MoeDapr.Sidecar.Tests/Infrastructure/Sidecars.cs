using System.Diagnostics;
using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Tests.Infrastructure;

/// <summary>Starts sidecars for tests: in-process (fast) or as the real moedapr-sidecar process.</summary>
public static class Sidecars
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>An in-process sidecar with its own environment (nothing shared with other tests).</summary>
    public static async Task<InProcessSidecar> StartAsync(string appId, Components components, int? appPort = null,
        Action<SidecarOptions>? configure = null, SidecarEnvironment? environment = null)
    {
        var ownEnvironment = environment is null;
        environment ??= new SidecarEnvironment();
        var options = new SidecarOptions { AppId = appId, AppPort = appPort, HttpPort = 0, GrpcPort = 0 };
        options.ResourcesPaths.Add(components.Path);
        configure?.Invoke(options);
        var host = await SidecarHost.StartAsync(options, environment);
        await host.WaitReadyAsync(Timeout);
        return new InProcessSidecar(host, ownEnvironment ? environment : null);
    }

    /// <summary>Starts `dotnet moedapr-sidecar.dll args` and waits for its healthz.</summary>
    public static async Task<SidecarProcess> StartProcessAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null, bool waitHealthy = true)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "moedapr-sidecar.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("DAPR_API_TOKEN");
        info.Environment.Remove("APP_API_TOKEN");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new SidecarProcess(Process.Start(info) ?? throw new InvalidOperationException("moedapr-sidecar did not start"));
        if (waitHealthy)
        {
            await process.WaitForLineAsync(l => l.StartsWith("moedapr-sidecar: app=", StringComparison.Ordinal), Timeout);
        }

        return process;
    }
}

/// <summary>An in-process sidecar and a DaprClient pointed at it.</summary>
public sealed class InProcessSidecar(SidecarHost host, SidecarEnvironment? ownedEnvironment) : IAsyncDisposable
{
    public SidecarHost Host { get; } = host;

    public string HttpEndpoint => Host.HttpEndpoint;

    public string GrpcEndpoint => Host.GrpcEndpoint;

    public DaprClient CreateClient(string? apiToken = null)
    {
        var builder = new DaprClientBuilder().UseHttpEndpoint(HttpEndpoint).UseGrpcEndpoint(GrpcEndpoint);
        if (apiToken is not null)
        {
            builder.UseDaprApiToken(apiToken);
        }

        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        if (ownedEnvironment is not null)
        {
            await ownedEnvironment.DisposeAsync();
        }
    }
}

/// <summary>A moedapr-sidecar process with its output captured.</summary>
public sealed class SidecarProcess : IAsyncDisposable
{
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();

    public SidecarProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Output
    {
        get
        {
            lock (_lock)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        string? found = null;
        await Poll.UntilAsync(() =>
        {
            lock (_lock)
            {
                found = _lines.FirstOrDefault(predicate);
            }

            if (found is null && Process.HasExited)
            {
                // The exit can be seen before the last output lines were read: drain them, then look again.
                Process.WaitForExit();
                lock (_lock)
                {
                    found = _lines.FirstOrDefault(predicate);
                }

                if (found is not null)
                {
                    return true;
                }

                throw new InvalidOperationException($"moedapr-sidecar exited with {Process.ExitCode}:\n{Output}");
            }

            return found is not null;
        }, timeout, "moedapr-sidecar output");
        return found!;
    }

    public void Kill()
    {
        try
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.CompletedTask;
        Process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _lines.Add(line);
        }
    }
}
