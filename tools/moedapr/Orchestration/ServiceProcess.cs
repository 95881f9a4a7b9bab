using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MoeDapr.Cli.Orchestration;

/// <summary>
/// A child process (a service or the sidecar host) whose output is kept as a bounded tail for error reports.
/// Disposing kills it with its whole process tree, so nothing outlives its owner.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private const int TailLines = 200;
    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly Action<string>? _echo;

    private ServiceProcess(string name, Process process, Action<string>? echo)
    {
        Name = name;
        _process = process;
        _echo = echo;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>; <paramref name="echo"/> sees each output line.</summary>
    public static ServiceProcess Start(
        string name, string fileName, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, Action<string>? echo = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(name, process, echo);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>The last lines the process wrote (stdout and stderr interleaved).</summary>
    public string Tail(int lines = 40)
    {
        lock (_tail)
        {
            return string.Join(Environment.NewLine, _tail.Skip(Math.Max(0, _tail.Count - lines)));
        }
    }

    /// <summary>Polls <paramref name="url"/> until it answers 2xx; throws with the log tail when the process exits or the deadline passes.</summary>
    public async Task WaitReadyAsync(HttpClient http, Uri url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            if (HasExited)
            {
                throw new ServiceStartException(Name, $"exited with code {ExitCode} before it was ready", Tail());
            }

            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                using var response = await http.GetAsync(url, attempt.Token);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
            {
                // One slow probe; try again.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ServiceStartException(Name, $"was not ready at {url} within {timeout.TotalSeconds:F0} s", Tail());
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ServiceStartException(Name, $"was not ready at {url} within {timeout.TotalSeconds:F0} s", Tail());
            }
        }
    }

    /// <summary>
    /// Stops the process: SIGTERM first (a sidecar host then stops its apps, services shut down cleanly), then after
    /// <see cref="GracePeriod"/> SIGKILL to it and every descendant seen before or after, so no orphan survives.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                var descendants = ProcessTree.Descendants(_process.Id);
                ProcessTree.Terminate(_process.Id);
                using (var grace = new CancellationTokenSource(GracePeriod))
                {
                    await _process.WaitForExitAsync(grace.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                if (!_process.HasExited)
                {
                    descendants = [.. descendants, .. ProcessTree.Descendants(_process.Id)];
                    _process.Kill(entireProcessTree: true);
                }

                ProcessTree.KillAll(descendants);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    /// <summary>How long a stopping process may take before it is killed.</summary>
    public static TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A TCP port nobody listens on right now (the OS picks it), never one this process handed out before: a stack
    /// takes all its ports before any app binds one, and the OS may offer a released port again.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port) || attempt >= 64)
                {
                    return port;
                }
            }
        }
    }

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>Whether something already listens on <paramref name="port"/> (loopback or any address).</summary>
    public static bool IsPortTaken(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            _tail.Enqueue(line);
            if (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }

        _echo?.Invoke(line);
    }
}
