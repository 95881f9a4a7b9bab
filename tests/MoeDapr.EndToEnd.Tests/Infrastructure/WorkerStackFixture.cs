using System.Text.RegularExpressions;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.KvTransfer.DataPlane.Client;
using MoeDapr.Model;

namespace MoeDapr.EndToEnd.Tests.Infrastructure;

/// <summary>
/// kv-transfer, prefill and decode (EP=2) as real processes on a generated tiny checkpoint, talking to each other over
/// their HTTP APIs and kv-transfer's shared-memory plane; plus the same checkpoint served by an in-process engine as
/// the reference. Started once per test class.
/// </summary>
public sealed partial class WorkerStackFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private readonly List<ServiceProcess> _processes = [];
    private LoadedCheckpoint? _checkpoint;

    public string ModelDir { get; } = Path.Combine(Path.GetTempPath(), "moedapr-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public Uri KvTransfer { get; private set; } = null!;

    public Uri Prefill { get; private set; } = null!;

    public Uri Decode { get; private set; } = null!;

    /// <summary>The same checkpoint in this process, EP=1: what `moedapr generate` would answer.</summary>
    public InferenceEngine Reference { get; private set; } = null!;

    public KvTransferClient KvClient { get; private set; } = null!;

    /// <summary>How long kv-transfer keeps an allocation nobody renews.</summary>
    public static TimeSpan LeaseTtl => TimeSpan.FromSeconds(6);

    public async Task InitializeAsync()
    {
        CheckpointWriter.WriteRandom(ModelDir, new RandomCheckpointOptions { Family = ModelFamily.Qwen3Moe, Preset = ModelPreset.Tiny, Seed = 7 });
        var binaries = ServiceBinaries.Discover();
        var shm = Path.Combine(ModelDir, "shm");
        Directory.CreateDirectory(shm);
        var deadSidecar = ServiceProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var env = new Dictionary<string, string>
        {
            ["DAPR_HTTP_PORT"] = deadSidecar, // no sidecar here: publishing fails quietly, as before a sidecar starts
            ["DAPR_GRPC_PORT"] = deadSidecar,
            ["Logging__LogLevel__Default"] = "Warning",
        };
        KvTransfer = await StartAsync(binaries, "kv-transfer", env, [
            "--KvTransfer:LeaseTtl=" + LeaseTtl.ToString("c"), "--KvTransfer:SweepInterval=00:00:00.250",
            "--KvTransfer:CapacityBytes=67108864", "--KvTransfer:SharedMemoryDirectory=" + shm]);
        string[] engine = ["--Model:Path=" + ModelDir, "--Worker:KvTransferUrl=" + KvTransfer, "--Engine:Threads=1", "--Engine:KvCacheBytes=16777216"];
        var prefill = StartAsync(binaries, "prefill", env, engine);
        var decode = StartAsync(binaries, "decode", env, [.. engine, "--Engine:ExpertParallelSize=2", "--Engine:MaxBatchSize=48"]);
        Prefill = await prefill;
        Decode = await decode;

        _checkpoint = CheckpointLoader.Open(ModelDir);
        Reference = await InferenceEngine.CreateAsync(new EngineOptions { Threads = 1, KvCacheBytes = 16 << 20 }, _checkpoint.Config, _checkpoint.Weights);
        KvClient = new KvTransferClient(
            new KvTransferHttpControl(new HttpClient { BaseAddress = KvTransfer, Timeout = TimeSpan.FromSeconds(30) }),
            new KvTransferClientOptions { Requester = "e2e-tests" });
    }

    /// <summary>Greedy tokens of the in-process reference engine.</summary>
    public Task<IReadOnlyList<int>> ReferenceGreedyAsync(IReadOnlyList<int> prompt, int maxTokens) => StackCalls.GreedyAsync(Reference, prompt, maxTokens);

    /// <summary>Prefill of one sequence through the prefill worker.</summary>
    public async Task<PrefillSequenceResult> PrefillAsync(string requestId, IReadOnlyList<int> prompt, SamplingParams sampling, CancellationToken cancellationToken = default)
    {
        var request = new PrefillBatchRequest
        {
            BatchId = "batch-" + requestId,
            Sequences = [new PrefillSequence { RequestId = requestId, PromptTokenIds = prompt, Sampling = sampling }],
        };
        using var response = await Http.PostAsJsonAsync(new Uri(Prefill, WorkerMethods.PrefillBatch), request, ContractJson.Options, cancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options, cancellationToken);
        return Assert.Single(body!.Results);
    }

    /// <summary>Opens a decode call and yields its events as they arrive.</summary>
    public IAsyncEnumerable<DecodeStreamEvent> DecodeAsync(DecodeRequest request, CancellationToken cancellationToken = default) =>
        StackCalls.DecodeAsync(Http, new Uri(Decode, WorkerMethods.DecodeGenerate), request, cancellationToken);

    /// <summary>Prefill then decode, the disaggregated path; returns every output token (the first included) and the last event.</summary>
    public async Task<(List<int> Tokens, DecodeStreamEvent Last)> GenerateAsync(IReadOnlyList<int> prompt, SamplingParams sampling, CancellationToken cancellationToken = default)
    {
        var id = Guid.NewGuid().ToString("N");
        var prefilled = await PrefillAsync(id, prompt, sampling, cancellationToken);
        Assert.Null(prefilled.Error);
        var tokens = new List<int> { prefilled.FirstToken!.TokenId };
        if (prefilled.FinishReason is { } finished)
        {
            // The first token ended the sequence (EOS or maxTokens 1): prefill kept no KV and decode is not called.
            return (tokens, DecodeStreamEvent.ForDone(finished, prompt.Count, 1, prefilled.CachedTokens));
        }

        DecodeStreamEvent? last = null;
        await foreach (var e in DecodeAsync(new DecodeRequest
        {
            RequestId = id, PromptTokenIds = prompt, Sampling = sampling, FirstToken = prefilled.FirstToken, KvHandle = prefilled.KvHandle,
        }, cancellationToken))
        {
            if (e.Kind == DecodeEventKind.Token)
            {
                tokens.Add(e.Token!.TokenId);
            }

            last = e;
        }

        return (tokens, last!);
    }

    /// <summary>Decode's counters.</summary>
    public async Task<DecodeStatsView> DecodeStatsAsync() =>
        (await Http.GetFromJsonAsync<DecodeStatsView>(new Uri(Decode, "decode/stats"), ContractJson.Options))!;

    /// <summary>A metric's value on a service's /metrics page (the sum over its label sets), 0 when absent.</summary>
    public async Task<double> MetricAsync(Uri service, string name)
    {
        var text = await Http.GetStringAsync(new Uri(service, "metrics"));
        return MetricLine().Matches(text)
            .Where(m => m.Groups["name"].Value == name)
            .Sum(m => double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The last lines of every service's log, for failure messages.</summary>
    public string Logs() => string.Join(Environment.NewLine, _processes.Select(p => $"== {p.Name}{Environment.NewLine}{p.Tail(20)}"));

    public async Task DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }

        if (Reference is not null)
        {
            await Reference.DisposeAsync();
        }

        KvClient?.Dispose();
        _checkpoint?.Dispose();
        Http.Dispose();
        StackCalls.TryDelete(ModelDir);
    }

    private async Task<Uri> StartAsync(ServiceBinaries binaries, string service, IReadOnlyDictionary<string, string> env, string[] arguments)
    {
        var dll = binaries.Find(service) ?? throw new InvalidOperationException($"{service} is not built ({binaries.Description}); build the solution first");
        var port = ServiceProcess.FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/");
        var process = ServiceProcess.Start(service, "dotnet", [dll, "--urls", url.ToString().TrimEnd('/'), .. arguments], Path.GetDirectoryName(dll)!, env);
        _processes.Add(process);
        await process.WaitReadyAsync(Http, new Uri(url, "health/ready"), StartTimeout, CancellationToken.None);
        return url;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (?<value>[-+0-9.eE]+|NaN)$", RegexOptions.Multiline)]
    private static partial Regex MetricLine();
}

/// <summary>The parts of decode's <c>GET decode/stats</c> the tests read.</summary>
public sealed record DecodeStatsView(int ActiveCalls, EngineStatsView Engine);

/// <summary>The engine counters in decode's stats.</summary>
public sealed record EngineStatsView(int Running, int Waiting, int KvBlocksUsed, int KvBlocksTotal, int KvHandles);
