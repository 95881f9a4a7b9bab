using System.Net.Sockets;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.EndToEnd.Tests.Infrastructure;

/// <summary>
/// kv-transfer, prefill and decode (EP=2) started by the local sidecar host from a generated run file — the
/// <c>moedapr up</c> machinery without the router — so every call, kv-transfer's control calls included, goes through
/// Dapr service invocation; pub/sub on in-memory components, or on a real redis-server in <see cref="RedisSidecarStackFixture"/>.
/// </summary>
public class SidecarStackFixture : IAsyncLifetime
{
    private ServiceProcess? _redis;
    private LoadedCheckpoint? _checkpoint;

    public string WorkDir { get; } = Path.Combine(Path.GetTempPath(), "moedapr-e2e-dapr-" + Guid.NewGuid().ToString("N")[..8]);

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public LocalStack Stack { get; private set; } = null!;

    public InferenceEngine Reference { get; private set; } = null!;

    /// <summary>The redis-server port, when the stack runs on Redis.</summary>
    public int? RedisPort { get; private set; }

    protected virtual bool UseRedis => false;

    public async Task InitializeAsync()
    {
        var model = Path.Combine(WorkDir, "model");
        CheckpointWriter.WriteRandom(model, new RandomCheckpointOptions { Family = ModelFamily.Qwen3Moe, Preset = ModelPreset.Tiny, Seed = 11 });
        if (UseRedis)
        {
            RedisPort = ServiceProcess.FreePort();
            _redis = ServiceProcess.Start("redis-server", "redis-server",
                ["--port", RedisPort.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
                WorkDir, new Dictionary<string, string>());
            await WaitListeningAsync(RedisPort.Value, TimeSpan.FromSeconds(20));
        }

        Stack = await LocalStack.StartAsync(new LocalStackOptions
        {
            ModelDir = model,
            IncludeRouter = false,
            DecodeExpertParallel = 2,
            Redis = RedisPort is { } port ? $"127.0.0.1:{port}" : null,
            ReadyTimeout = TimeSpan.FromMinutes(2),
            Environment = new Dictionary<string, string>
            {
                ["Engine__Threads"] = "1",
                ["Engine__KvCacheBytes"] = "16777216",
                ["KvTransfer__CapacityBytes"] = "67108864",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        }, ServiceBinaries.Discover(), echo: null, CancellationToken.None);

        _checkpoint = CheckpointLoader.Open(model);
        Reference = await InferenceEngine.CreateAsync(new EngineOptions { Threads = 1, KvCacheBytes = 16 << 20 }, _checkpoint.Config, _checkpoint.Weights);
    }

    /// <summary>A method of <paramref name="appId"/> invoked through its sidecar.</summary>
    public Uri Invoke(string appId, string method) => new(Stack.SidecarUrl(appId), $"v1.0/invoke/{appId}/method/{method}");

    public Task<IReadOnlyList<int>> ReferenceGreedyAsync(IReadOnlyList<int> prompt, int maxTokens) => StackCalls.GreedyAsync(Reference, prompt, maxTokens);

    public async Task<PrefillSequenceResult> PrefillAsync(string requestId, IReadOnlyList<int> prompt, SamplingParams sampling)
    {
        var request = new PrefillBatchRequest
        {
            BatchId = "b-" + requestId,
            Sequences = [new PrefillSequence { RequestId = requestId, PromptTokenIds = prompt, Sampling = sampling, DecodeAppId = AppIds.Decode }],
        };
        using var response = await Http.PostAsJsonAsync(Invoke(AppIds.Prefill, WorkerMethods.PrefillBatch), request, ContractJson.Options);
        response.EnsureSuccessStatusCode();
        return Assert.Single((await response.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options))!.Results);
    }

    public IAsyncEnumerable<DecodeStreamEvent> DecodeAsync(DecodeRequest request, CancellationToken cancellationToken = default) =>
        StackCalls.DecodeAsync(Http, Invoke(AppIds.Decode, WorkerMethods.DecodeGenerate), request, cancellationToken);

    public async Task<DecodeStatsView> DecodeStatsAsync() =>
        (await Http.GetFromJsonAsync<DecodeStatsView>(Invoke(AppIds.Decode, "decode/stats"), ContractJson.Options))!;

    public string Logs() => Stack.Host.Tail(60);

    public async Task DisposeAsync()
    {
        if (Stack is not null)
        {
            await Stack.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (Reference is not null)
        {
            await Reference.DisposeAsync();
        }

        _checkpoint?.Dispose();
        Http.Dispose();
        StackCalls.TryDelete(WorkDir);
    }

    private static async Task WaitListeningAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}

/// <summary>The same stack with pub/sub and state on a real redis-server.</summary>
public sealed class RedisSidecarStackFixture : SidecarStackFixture
{
    protected override bool UseRedis => true;
}
