using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.EndToEnd.Tests.Overload;

/// <summary>
/// The whole system as <c>moedapr up</c> starts it — sidecar host, kv-transfer, two prefill replicas, decode (EP=2) and the router —
/// on a generated tiny checkpoint, with a deliberately small router queue and a short queue timeout so a few seconds of
/// load overflow it. Shared by the overload, Prometheus and prefix-routing tests (<see cref="RouterStackCollection"/>).
/// </summary>
public sealed partial class RouterStackFixture : IAsyncLifetime
{
    /// <summary>Router:Admission:MaxQueuedRequests of this stack.</summary>
    public const int QueueBound = 8;

    /// <summary>Router:Admission:QueueTimeout of this stack.</summary>
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(2);

    public string WorkDir { get; } = Path.Combine(Path.GetTempPath(), "moedapr-e2e-router-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>For requests that are not the load itself (metrics, readiness, models); 10 s is a hang for any of them.</summary>
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public LocalStack Stack { get; private set; } = null!;

    public Uri Router => Stack.RouterUrl;

    /// <summary>The OpenAI model name the router serves.</summary>
    public string ModelName { get; private set; } = null!;

    /// <summary>App id → the port the app itself listens on (what Prometheus scrapes), read from the generated run file.</summary>
    public IReadOnlyDictionary<string, int> AppPorts { get; private set; } = new Dictionary<string, int>();

    public async Task InitializeAsync()
    {
        var model = Path.Combine(WorkDir, "model");
        CheckpointWriter.WriteRandom(model, new RandomCheckpointOptions { Family = ModelFamily.Qwen3Moe, Preset = ModelPreset.Tiny, Seed = 5 });
        var bound = QueueBound.ToString(CultureInfo.InvariantCulture);
        Stack = await LocalStack.StartAsync(new LocalStackOptions
        {
            ModelDir = model,
            Port = ServiceProcess.FreePort(),
            DecodeExpertParallel = 2,
            PrefillReplicas = 2, // for the prefix-routing test
            ReadyTimeout = TimeSpan.FromMinutes(2),
            Environment = new Dictionary<string, string>
            {
                ["Router__Admission__MaxQueuedRequests"] = bound,
                ["Router__Admission__QueueTimeout"] = QueueTimeout.ToString("c", CultureInfo.InvariantCulture),
                ["Engine__Threads"] = "1",
                ["Engine__KvCacheBytes"] = "16777216",
                ["KvTransfer__CapacityBytes"] = "67108864",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        }, ServiceBinaries.Discover(), echo: null, CancellationToken.None);

        AppPorts = ReadAppPorts(Path.Combine(Stack.WorkDir, "moedapr-up.yaml"));
        using var models = await Http.GetFromJsonAsync<JsonDocument>(new Uri(Router, "v1/models"));
        ModelName = models!.RootElement.GetProperty("data")[0].GetProperty("id").GetString()!;
    }

    /// <summary>A metric's value on the router's /metrics page (the sum over its label sets), 0 when absent.</summary>
    public Task<double> RouterMetricAsync(string name, CancellationToken cancellationToken = default) =>
        MetricAsync(Router, name, cancellationToken);

    /// <summary>The address an app listens on itself (not its sidecar).</summary>
    public Uri App(string appId) => new($"http://127.0.0.1:{AppPorts[appId].ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>A metric's value on <paramref name="service"/>'s /metrics page (the sum over its label sets), 0 when absent.</summary>
    public async Task<double> MetricAsync(Uri service, string name, CancellationToken cancellationToken = default)
    {
        var text = await Http.GetStringAsync(new Uri(service, "metrics"), cancellationToken);
        return MetricLine().Matches(text)
            .Where(m => m.Groups["name"].Value == name)
            .Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>A non-streaming completion request for <paramref name="prompt"/>.</summary>
    public HttpRequestMessage Completion(string prompt, int maxTokens) =>
        new(HttpMethod.Post, new Uri(Router, "v1/completions"))
        {
            Content = JsonContent.Create(new { model = ModelName, prompt, max_tokens = maxTokens, temperature = 0 }),
        };

    /// <summary>The last lines of the sidecar host's log (every app writes through it), for failure messages.</summary>
    public string Logs() => Stack.Host.Tail(80);

    public async Task DisposeAsync()
    {
        if (Stack is not null)
        {
            await Stack.DisposeAsync();
        }

        Http.Dispose();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS's temp cleanup.
        }
    }

    private static Dictionary<string, int> ReadAppPorts(string runFile)
    {
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        string? appId = null;
        foreach (var line in File.ReadLines(runFile))
        {
            var text = line.Trim();
            if (text.StartsWith("- appID:", StringComparison.Ordinal))
            {
                appId = text["- appID:".Length..].Trim();
            }
            else if (appId is not null && text.StartsWith("appPort:", StringComparison.Ordinal))
            {
                ports[appId] = int.Parse(text["appPort:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return ports;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (?<value>[-+0-9.eE]+|NaN)$", RegexOptions.Multiline)]
    private static partial Regex MetricLine();
}

/// <summary>Test classes that share one <see cref="RouterStackFixture"/> (one start of the whole system).</summary>
[CollectionDefinition(Name)]
public sealed class RouterStackCollection : ICollectionFixture<RouterStackFixture>
{
    public const string Name = "router stack";
}
