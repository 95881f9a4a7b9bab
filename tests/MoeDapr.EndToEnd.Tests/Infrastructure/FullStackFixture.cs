using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The whole system as <c>moedapr up</c> starts it — the sidecar host running kv-transfer, prefill, decode (EP=2) and the
/// router — on a generated tiny checkpoint, with the same checkpoint in this process as the reference.
/// </summary>
public sealed class FullStackFixture : IAsyncLifetime
{
    private LoadedCheckpoint? _checkpoint;

    public string WorkDir { get; } = Path.Combine(Path.GetTempPath(), "moedapr-e2e-full-" + Guid.NewGuid().ToString("N")[..8]);

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(90) };

    public LocalStack Stack { get; private set; } = null!;

    public InferenceEngine Reference { get; private set; } = null!;

    public string ModelName => "model";

    public string ModelDir => Path.Combine(WorkDir, ModelName);

    public Uri Router => Stack.RouterUrl;

    public async Task InitializeAsync()
    {
        var model = Path.Combine(WorkDir, ModelName);
        CheckpointWriter.WriteRandom(model, new RandomCheckpointOptions { Family = ModelFamily.Qwen3Moe, Preset = ModelPreset.Tiny, Seed = 5 });
        Stack = await LocalStack.StartAsync(new LocalStackOptions
        {
            ModelDir = model,
            Port = ServiceProcess.FreePort(),
            DecodeExpertParallel = 2,
            ReadyTimeout = TimeSpan.FromMinutes(2),
            Environment = new Dictionary<string, string>
            {
                ["Engine__Threads"] = "1",
                ["Engine__KvCacheBytes"] = "16777216",
                ["Engine__MaxBatchSize"] = "48",
                ["KvTransfer__CapacityBytes"] = "67108864",
                ["Logging__LogLevel__Default"] = "Warning",
                // These tests expect every request of a 32-request burst answered, however slow the machine: no SLO shedding.
                ["Router__Admission__TargetQueueDelay"] = "00:00:00",
                ["Router__Admission__DispatchDeadline"] = "00:00:00",
            },
        }, ServiceBinaries.Discover(), echo: null, CancellationToken.None);
        _checkpoint = CheckpointLoader.Open(model);
        Reference = await InferenceEngine.CreateAsync(new EngineOptions { Threads = 1, KvCacheBytes = 16 << 20 }, _checkpoint.Config, _checkpoint.Weights);
    }

    /// <summary>Greedy output ids of the in-process engine, ending at EOS or <paramref name="maxTokens"/>.</summary>
    public Task<IReadOnlyList<int>> ReferenceGreedyAsync(IReadOnlyList<int> prompt, int maxTokens) => StackCalls.GreedyAsync(Reference, prompt, maxTokens);

    /// <summary>A method of <paramref name="appId"/> invoked through its sidecar.</summary>
    public Uri Invoke(string appId, string method) => new(Stack.SidecarUrl(appId), $"v1.0/invoke/{appId}/method/{method}");

    public async Task<DecodeStatsView> DecodeStatsAsync() =>
        (await Http.GetFromJsonAsync<DecodeStatsView>(Invoke(AppIds.Decode, "decode/stats"), ContractJson.Options))!;

    public async Task DisposeAsync()
    {
        if (Stack is not null)
        {
            await Stack.DisposeAsync();
        }

        if (Reference is not null)
        {
            await Reference.DisposeAsync();
        }

        _checkpoint?.Dispose();
        Http.Dispose();
        StackCalls.TryDelete(WorkDir);
    }
}
