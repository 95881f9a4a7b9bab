using System.Globalization;
using System.Text;

namespace MoeDapr.Cli.Orchestration;

/// <summary>What <see cref="LocalStack"/> starts.</summary>
public sealed record LocalStackOptions
{
    public required string ModelDir { get; init; }

    /// <summary>The router's (OpenAI API) port.</summary>
    public int Port { get; init; } = 8080;

    public int PrefillReplicas { get; init; } = 1;

    public int DecodeReplicas { get; init; } = 1;

    /// <summary>Expert-parallel ranks of each decode replica.</summary>
    public int DecodeExpertParallel { get; init; } = 1;

    /// <summary>Redis <c>host:port</c> for pub/sub and state; null keeps both in memory (inside the one sidecar host).</summary>
    public string? Redis { get; init; }

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>False starts only the workers (kv-transfer, prefill, decode) and waits for them through their sidecars.</summary>
    public bool IncludeRouter { get; init; } = true;

    /// <summary>The names the router accepts as <c>model</c> (<c>Router:ServedModelNames</c>); empty serves the checkpoint folder's name.</summary>
    public IReadOnlyList<string> ServedModelNames { get; init; } = [];

    /// <summary>True tells every app to log only warnings and the project's own events (<see cref="ConsoleOutput.QuietLogLevels"/>).</summary>
    public bool Quiet { get; init; }

    /// <summary>Extra environment for every app (e.g. engine settings).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The whole system on one machine: a generated multi-app run file (the <c>dapr run -f</c> format) with the four
/// services, started by the local sidecar host, which runs each app next to its sidecar. Disposing kills the host and
/// with it every app (the process tree), so nothing is left behind.
/// </summary>
public sealed class LocalStack : IAsyncDisposable
{
    private readonly ServiceProcess _host;
    private readonly string _workDir;
    private readonly IReadOnlyDictionary<string, int> _sidecarPorts;

    private LocalStack(ServiceProcess host, string workDir, Uri routerUrl, IReadOnlyDictionary<string, int> sidecarPorts)
    {
        _host = host;
        _workDir = workDir;
        RouterUrl = routerUrl;
        _sidecarPorts = sidecarPorts;
    }

    /// <summary>The Dapr HTTP API of <paramref name="appId"/>'s sidecar (<c>http://127.0.0.1:port/</c>).</summary>
    public Uri SidecarUrl(string appId) => new($"http://127.0.0.1:{_sidecarPorts[appId].ToString(CultureInfo.InvariantCulture)}/");

    public Uri RouterUrl { get; }

    /// <summary>The folder holding the generated run file and components.</summary>
    public string WorkDir => _workDir;

    public ServiceProcess Host => _host;

    /// <summary>Writes the run file, starts the sidecar host, and waits until the router is ready.</summary>
    public static async Task<LocalStack> StartAsync(LocalStackOptions options, ServiceBinaries binaries, Action<string>? echo, CancellationToken cancellationToken)
    {
        var workDir = Path.Combine(Path.GetTempPath(), "moedapr-up-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        var sidecarPorts = new Dictionary<string, int>(StringComparer.Ordinal);
        var runFile = WriteRunFile(options, binaries, workDir, sidecarPorts);
        var sidecar = binaries.Find("sidecar") ?? throw new FileNotFoundException($"the local sidecar is not built ({binaries.Description})");
        var host = ServiceProcess.Start("sidecar host", "dotnet", [sidecar, "run", "-f", runFile, "--registry-path", Path.Combine(workDir, "registry")],
            workDir, new Dictionary<string, string>(), echo);
        var url = new Uri($"http://127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}/");
        try
        {
            using var http = new HttpClient();
            if (options.IncludeRouter)
            {
                await host.WaitReadyAsync(http, new Uri(url, "health/ready"), options.ReadyTimeout, cancellationToken);
            }
            else
            {
                foreach (var (appId, port) in sidecarPorts)
                {
                    var ready = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/v1.0/invoke/{appId}/method/health/ready");
                    await host.WaitReadyAsync(http, ready, options.ReadyTimeout, cancellationToken);
                }
            }
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return new LocalStack(host, workDir, url, sidecarPorts);
    }

    /// <summary>The run file for <paramref name="options"/>; returns its path and fills <paramref name="sidecarPorts"/> (app id → Dapr HTTP port).</summary>
    public static string WriteRunFile(LocalStackOptions options, ServiceBinaries binaries, string workDir, IDictionary<string, int> sidecarPorts)
    {
        var components = Path.Combine(workDir, "components");
        Directory.CreateDirectory(components);
        WriteComponents(components, options.Redis);
        var yaml = new StringBuilder();
        yaml.AppendLine("# Generated by moedapr up.");
        yaml.AppendLine("version: 1");
        yaml.AppendLine("common:");
        yaml.AppendLine($"  resourcesPath: {Quote(components)}");
        yaml.AppendLine("  maxBodySize: 16Mi"); // token ids of large prefill batches exceed Dapr's default 4Mi
        yaml.AppendLine("  env:");
        yaml.AppendLine("    DOTNET_ENVIRONMENT: Production");
        yaml.AppendLine($"    Model__Path: {Quote(Path.GetFullPath(options.ModelDir))}"); // every service reads the checkpoint (the router its tokenizer)
        var common = options.Quiet ? new Dictionary<string, string>(ConsoleOutput.QuietLogLevels) : new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in options.Environment)
        {
            common[key] = value; // what a caller sets explicitly wins over the quiet defaults
        }

        foreach (var (key, value) in common)
        {
            yaml.AppendLine($"    {key}: {Quote(value)}");
        }

        yaml.AppendLine("apps:");
        void AppendApp(string service, string appId, int port, (string Key, string Value)[] env)
        {
            sidecarPorts[appId] = ServiceProcess.FreePort();
            LocalStack.AppendApp(yaml, binaries, service, appId, port, sidecarPorts[appId], env);
        }

        AppendApp("kv-transfer", "kv-transfer", ServiceProcess.FreePort(), []);
        for (var i = 1; i <= options.PrefillReplicas; i++)
        {
            var id = Contracts.AppIds.Replica(Contracts.AppIds.Prefill, i);
            AppendApp("prefill", id, ServiceProcess.FreePort(), [("Worker__AppId", id)]);
        }

        for (var i = 1; i <= options.DecodeReplicas; i++)
        {
            var id = Contracts.AppIds.Replica(Contracts.AppIds.Decode, i);
            AppendApp("decode", id, ServiceProcess.FreePort(),
                [("Worker__AppId", id), ("Engine__ExpertParallelSize", options.DecodeExpertParallel.ToString(CultureInfo.InvariantCulture))]);
        }

        if (options.IncludeRouter)
        {
            AppendApp("router", "router", options.Port,
                [.. options.ServedModelNames.Select((name, i) => ($"Router__ServedModelNames__{i.ToString(CultureInfo.InvariantCulture)}", name))]);
        }

        var path = Path.Combine(workDir, "moedapr-up.yaml");
        File.WriteAllText(path, yaml.ToString());
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        try
        {
            Directory.Delete(_workDir, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp folder.
        }
    }

    private static void AppendApp(StringBuilder yaml, ServiceBinaries binaries, string service, string appId, int port, int sidecarPort, (string Key, string Value)[] env)
    {
        var dll = binaries.Find(service) ?? throw new FileNotFoundException($"{service} is not built ({binaries.Description})");
        var portText = port.ToString(CultureInfo.InvariantCulture);
        yaml.AppendLine($"  - appID: {appId}");
        yaml.AppendLine($"    appDirPath: {Quote(Path.GetDirectoryName(dll)!)}");
        yaml.AppendLine($"    appPort: {portText}");
        yaml.AppendLine($"    daprHTTPPort: {sidecarPort.ToString(CultureInfo.InvariantCulture)}");
        yaml.AppendLine($"    daprGRPCPort: {ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture)}");
        yaml.AppendLine($"    command: [\"dotnet\", {Quote(dll)}]");
        yaml.AppendLine("    env:");
        yaml.AppendLine($"      ASPNETCORE_URLS: \"http://127.0.0.1:{portText}\"");
        foreach (var (key, value) in env)
        {
            yaml.AppendLine($"      {key}: {Quote(value)}");
        }
    }

    private static void WriteComponents(string folder, string? redis)
    {
        var pubsub = redis is null
            ? Component("pubsub", "pubsub.in-memory", [])
            : Component("pubsub", "pubsub.redis", [("redisHost", redis), ("redisPassword", ""), ("processingTimeout", "15s"), ("redeliverInterval", "5s")]);
        var state = redis is null
            ? Component("statestore", "state.in-memory", [("actorStateStore", "true")])
            : Component("statestore", "state.redis", [("redisHost", redis), ("redisPassword", ""), ("actorStateStore", "true")]);
        File.WriteAllText(Path.Combine(folder, "pubsub.yaml"), pubsub);
        File.WriteAllText(Path.Combine(folder, "statestore.yaml"), state);
    }

    private static string Component(string name, string type, (string Name, string Value)[] metadata)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("apiVersion: dapr.io/v1alpha1");
        yaml.AppendLine("kind: Component");
        yaml.AppendLine("metadata:");
        yaml.AppendLine($"  name: {name}");
        yaml.AppendLine("spec:");
        yaml.AppendLine($"  type: {type}");
        yaml.AppendLine("  version: v1");
        yaml.AppendLine(metadata.Length == 0 ? "  metadata: []" : "  metadata:");
        foreach (var (key, value) in metadata)
        {
            yaml.AppendLine($"    - name: {key}");
            yaml.AppendLine($"      value: {Quote(value)}");
        }

        return yaml.ToString();
    }

    /// <summary>A YAML double-quoted scalar.</summary>
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
