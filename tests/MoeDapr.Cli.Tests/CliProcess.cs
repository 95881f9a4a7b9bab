using System.Diagnostics;

namespace MoeDapr.Cli.Tests;

/// <summary>The result of one <c>moedapr</c> run.</summary>
public sealed record CliResult(int ExitCode, string StdOut, string StdErr);

/// <summary>Runs the built <c>moedapr</c> CLI as a real process (the test output folder holds a copy of it).</summary>
public static class CliProcess
{
    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "moedapr.dll");

    public static async Task<CliResult> RunAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Plain text: no ANSI colours or terminal-width wrapping in captured tables.
        start.Environment["NO_COLOR"] = "1";
        start.Environment["COLUMNS"] = "200";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"moedapr {string.Join(' ', args)} did not finish within {timeout}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(TimeSpan.FromMinutes(3), args);
}
