using System.Diagnostics;

namespace MoeDapr.Sidecar.Cli;

/// <summary>
/// An app command started next to its sidecar with APP_ID, APP_PORT, DAPR_HTTP_PORT and DAPR_GRPC_PORT, as dapr run does;
/// with an output prefix (run files: <c>== APP - id == </c>, as <c>dapr run -f</c> writes) each line it prints carries it.
/// </summary>
public sealed class AppProcess : IDisposable
{
    private readonly Process _process;

    private AppProcess(Process process) => _process = process;

    public Task<int> Exited { get; private init; } = Task.FromResult(0);

    public int Id => _process.Id;

    public static AppProcess Start(IReadOnlyList<string> command, string workingDirectory, IReadOnlyDictionary<string, string> environment, string? outputPrefix = null)
    {
        var info = new ProcessStartInfo(command[0])
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = outputPrefix is not null,
            RedirectStandardError = outputPrefix is not null,
        };
        foreach (var arg in command.Skip(1))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException($"could not start '{command[0]}'.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new Hosting.SidecarConfigurationException($"app command '{command[0]}' could not be started: {ex.Message}");
        }

        if (outputPrefix is not null)
        {
            process.OutputDataReceived += (_, e) => WriteLine(Console.Out, outputPrefix, e.Data);
            process.ErrorDataReceived += (_, e) => WriteLine(Console.Error, outputPrefix, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        var exited = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => exited.TrySetResult(process.ExitCode);
        if (process.HasExited)
        {
            exited.TrySetResult(process.ExitCode);
        }

        return new AppProcess(process) { Exited = exited.Task };
    }

    /// <summary>Stops the app and its children.</summary>
    public void Stop(TimeSpan grace)
    {
        try
        {
            if (_process.HasExited)
            {
                return;
            }

            _process.Kill(entireProcessTree: true);
            _process.WaitForExit((int)grace.TotalMilliseconds);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose() => _process.Dispose();

    private static void WriteLine(TextWriter writer, string prefix, string? line)
    {
        if (line is not null)
        {
            writer.WriteLine(prefix + line);
        }
    }
}
