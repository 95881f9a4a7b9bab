using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace MoeDapr.Tests.Shared.Prometheus;

/// <summary>A scrape target for <see cref="PrometheusServer"/>: a job name and a host:port serving metrics.</summary>
public sealed record PrometheusScrapeTarget(string Job, string Address, string MetricsPath = "/metrics");

/// <summary>One sample of an instant-query answer: its labels and value.</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>Settings of a test Prometheus server.</summary>
public sealed record PrometheusServerOptions
{
    /// <summary>How often every target is scraped (Prometheus accepts sub-second intervals).</summary>
    public TimeSpan ScrapeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long start-up may take before it counts as failed.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Rule files (absolute paths) to load, for tests that evaluate alerts against live data.</summary>
    public IReadOnlyList<string> RuleFiles { get; init; } = [];

    /// <summary>The binary; default: $PROMETHEUS, then `prometheus` on PATH.</summary>
    public string? Executable { get; init; }
}

/// <summary>
/// A real <c>prometheus</c> process for tests: generated configuration scraping the given targets, a free
/// loopback port, a throw-away TSDB folder, readiness awaited with a deadline, and the HTTP query API.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private const int StartAttempts = 3;
    private readonly Process _process;
    private readonly string _workDir;
    private readonly StringBuilder _log;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, string workDir, StringBuilder log, Uri baseAddress)
    {
        _process = process;
        _workDir = workDir;
        _log = log;
        BaseAddress = baseAddress;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>The server's address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Everything the process wrote so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> and waits until it reports ready.</summary>
    public static async Task<PrometheusServer> StartAsync(
        IEnumerable<PrometheusScrapeTarget> targets,
        PrometheusServerOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new PrometheusServerOptions();
        var targetList = targets.ToList();
        var executable = options.Executable ?? FindExecutable();
        Exception? lastError = null;

        // A free port can be taken between probing and binding; start again on another one when that happens.
        for (var attempt = 0; attempt < StartAttempts; attempt++)
        {
            var workDir = Directory.CreateTempSubdirectory("moedapr-prometheus-").FullName;
            var port = FreePort.Next();
            var configPath = Path.Combine(workDir, "prometheus.yml");
            await File.WriteAllTextAsync(configPath, BuildConfig(targetList, options), cancellationToken).ConfigureAwait(false);

            var log = new StringBuilder();
            var process = Launch(executable, configPath, workDir, port, log);
            var server = new PrometheusServer(process, workDir, log, new Uri($"http://127.0.0.1:{port}/"));
            try
            {
                await server.WaitUntilReadyAsync(options.StartTimeout, cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                lastError = ex;
                await server.DisposeAsync().ConfigureAwait(false);
                if (!server.Log.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    throw;
                }
            }
        }

        throw new InvalidOperationException($"Prometheus did not start after {StartAttempts} attempts.", lastError);
    }

    /// <summary>Runs an instant query and returns its samples (a scalar answer comes back as one sample without labels).</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string promQl, CancellationToken cancellationToken = default)
    {
        var uri = "api/v1/query?query=" + Uri.EscapeDataString(promQl);
        using var response = await _http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (!response.IsSuccessStatusCode || root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus query '{promQl}' failed ({(int)response.StatusCode}): {body}");
        }

        var data = root.GetProperty("data");
        var resultType = data.GetProperty("resultType").GetString();
        var result = data.GetProperty("result");
        var samples = new List<PrometheusSample>();
        switch (resultType)
        {
            case "vector":
                foreach (var item in result.EnumerateArray())
                {
                    var labels = item.GetProperty("metric").EnumerateObject()
                        .ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);
                    samples.Add(new PrometheusSample(labels, ParseValue(item.GetProperty("value"))));
                }

                break;
            case "scalar":
                samples.Add(new PrometheusSample(new Dictionary<string, string>(), ParseValue(result)));
                break;
            default:
                throw new InvalidOperationException($"Query '{promQl}' answered a {resultType}; use an instant vector or scalar.");
        }

        return samples;
    }

    /// <summary>
    /// Polls <paramref name="promQl"/> until one sample satisfies <paramref name="predicate"/>, and returns it;
    /// throws with the last answer and the server log when <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<PrometheusSample> WaitForSampleAsync(
        string promQl,
        Func<PrometheusSample, bool> predicate,
        TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<PrometheusSample> last = [];
        while (true)
        {
            last = await QueryAsync(promQl, cancellationToken).ConfigureAwait(false);
            var match = last.FirstOrDefault(predicate);
            if (match is not null)
            {
                return match;
            }

            if (deadline.Elapsed > timeout)
            {
                var seen = last.Count == 0 ? "no samples" : string.Join("; ", last.Select(Describe));
                throw new TimeoutException($"No sample of '{promQl}' matched within {timeout.TotalSeconds:0.#} s (last: {seen}).\n{Log}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until Prometheus has scraped every target of <paramref name="job"/> successfully (<c>up == 1</c>).</summary>
    public Task<PrometheusSample> WaitForTargetUpAsync(string job, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        WaitForSampleAsync($"up{{job=\"{job}\"}}", s => s.Value == 1, timeout, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
            TryDeleteDirectory(_workDir);
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Prometheus exited with code {_process.ExitCode} while starting.\n{Log}");
            }

            try
            {
                using var response = await _http.GetAsync("-/ready", cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"Prometheus was not ready within {timeout.TotalSeconds:0.#} s.\n{Log}");
    }

    private static Process Launch(string executable, string configPath, string workDir, int port, StringBuilder log)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir,
        };
        info.ArgumentList.Add("--config.file=" + configPath);
        info.ArgumentList.Add("--storage.tsdb.path=" + Path.Combine(workDir, "data"));
        info.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        info.ArgumentList.Add("--log.level=warn");

        var process = new Process { StartInfo = info };
        void Append(object? _, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        if (!process.Start())
        {
            throw new InvalidOperationException($"Could not start {executable}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string BuildConfig(IReadOnlyList<PrometheusScrapeTarget> targets, PrometheusServerOptions options)
    {
        var interval = FormatDuration(options.ScrapeInterval);
        var config = new StringBuilder();
        config.AppendLine("global:");
        config.AppendLine($"  scrape_interval: {interval}");
        config.AppendLine($"  scrape_timeout: {interval}");
        config.AppendLine($"  evaluation_interval: {interval}");
        if (options.RuleFiles.Count > 0)
        {
            config.AppendLine("rule_files:");
            foreach (var file in options.RuleFiles)
            {
                config.AppendLine($"  - {Quote(file)}");
            }
        }

        config.AppendLine("scrape_configs:");
        foreach (var job in targets.GroupBy(t => (t.Job, t.MetricsPath)))
        {
            config.AppendLine($"  - job_name: {Quote(job.Key.Job)}");
            config.AppendLine($"    metrics_path: {Quote(job.Key.MetricsPath)}");
            config.AppendLine("    static_configs:");
            config.AppendLine("      - targets: [" + string.Join(", ", job.Select(t => Quote(t.Address))) + "]");
        }

        return config.ToString();
    }

    private static string FindExecutable()
    {
        var fromEnv = Environment.GetEnvironmentVariable("PROMETHEUS");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(dir, "prometheus");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            "The prometheus binary was not found on PATH (set $PROMETHEUS to override). test.sh installs it: apt-get install prometheus.");
    }

    private static double ParseValue(JsonElement pair) =>
        // Prometheus answers [unix_time, "value"]; values may be "NaN", "+Inf", "-Inf".
        pair[1].GetString() switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            var text => double.Parse(text!, NumberStyles.Float, CultureInfo.InvariantCulture),
        };

    private static string Describe(PrometheusSample sample) =>
        "{" + string.Join(",", sample.Labels.Select(l => $"{l.Key}=\"{l.Value}\"")) + "} " +
        sample.Value.ToString(CultureInfo.InvariantCulture);

    private static string FormatDuration(TimeSpan span) =>
        span.TotalSeconds >= 1 && span.TotalSeconds == Math.Floor(span.TotalSeconds)
            ? ((int)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s"
            : ((int)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
