using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using MoeDapr.Sidecar.Discovery;
using MoeDapr.Sidecar.Hosting;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.Cli;

/// <summary>The moedapr-sidecar process: one app's sidecar (plus its app command) or several from a run file.</summary>
public static class SidecarProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        ParsedCommandLine parsed;
        try
        {
            parsed = SidecarCommandLine.Parse(args, Environment.GetEnvironmentVariable);
        }
        catch (SidecarConfigurationException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 2;
        }

        if (parsed.Help)
        {
            Console.WriteLine(SidecarCommandLine.Usage);
            return 0;
        }

        using var loggerFactory = LoggerFactory.Create(logging => logging
            .AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss.fff ";
            })
            .SetMinimumLevel(ParseLevel(parsed.LogLevel))
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddFilter("Grpc", LogLevel.Warning));

        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        await using var environment = new SidecarEnvironment(parsed.RegistryPath ?? AppDirectory.DefaultRegistryPath, TimeProvider.System, loggerFactory);
        var apps = new List<(SidecarHost Host, AppProcess? Process)>();
        try
        {
            var plans = parsed.RunFile is not null
                ? RunFile.Load(parsed.RunFile, Environment.GetEnvironmentVariable)
                : [new RunFileApp(parsed.Single!, Environment.CurrentDirectory, parsed.AppCommand, new Dictionary<string, string>())];
            foreach (var plan in plans)
            {
                var host = await SidecarHost.StartAsync(plan.Options, environment, stop.Token);
                host.Runtime.ShutdownRequested += (_, _) => stop.Cancel();
                AppProcess? process = null;
                if (plan.Command.Count > 0)
                {
                    var env = new Dictionary<string, string>(plan.Environment, StringComparer.Ordinal)
                    {
                        ["APP_ID"] = plan.Options.AppId,
                        ["DAPR_HTTP_PORT"] = host.HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        ["DAPR_GRPC_PORT"] = host.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    };
                    if (plan.Options.AppPort is { } appPort)
                    {
                        env["APP_PORT"] = appPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }

                    if (plan.Options.ApiToken is { } token)
                    {
                        env["DAPR_API_TOKEN"] = token;
                    }

                    if (plan.Options.AppApiToken is { } appToken)
                    {
                        env["APP_API_TOKEN"] = appToken;
                    }

                    process = AppProcess.Start(plan.Command, plan.WorkingDirectory, env,
                        parsed.RunFile is null ? null : $"== APP - {plan.Options.AppId} == ");
                }

                apps.Add((host, process));

                // One machine-readable line per sidecar (ports may have been picked when 0 was asked for).
                Console.WriteLine($"moedapr-sidecar: app={plan.Options.AppId} http={host.HttpPort} grpc={host.GrpcPort} pid={Environment.ProcessId}" +
                    (process is null ? "" : $" app-pid={process.Id}"));
            }

            var processes = apps.Where(a => a.Process is not null).Select(a => a.Process!.Exited).ToList();
            var allExited = processes.Count == 0 ? Task.Delay(Timeout.Infinite, stop.Token) : Task.WhenAll(processes);
            try
            {
                await allExited.WaitAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Signal or Shutdown API.
            }

            return processes.Count > 0 && processes.All(p => p.IsCompleted) ? processes.Max(p => p.Result) : 0;
        }
        catch (Exception ex) when (ex is SidecarConfigurationException or SidecarResourceException)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 1;
        }
        finally
        {
            foreach (var (host, process) in apps)
            {
                process?.Stop(TimeSpan.FromSeconds(5));
                process?.Dispose();
                await host.DisposeAsync();
            }
        }
    }

    private static LogLevel ParseLevel(string level) => level.ToLowerInvariant() switch
    {
        "debug" => LogLevel.Debug,
        "warn" or "warning" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "fatal" => LogLevel.Critical,
        _ => LogLevel.Information,
    };
}
