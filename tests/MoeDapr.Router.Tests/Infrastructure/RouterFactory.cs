using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using MoeDapr.Router.Generation;
using MoeDapr.Router.Serving;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>The router in-process with fake workers, the fake tokenizer (context 512) and recorded completion records.</summary>
public sealed class RouterFactory : WebApplicationFactory<Program>
{
    public const string ModelName = "test-moe";
    public const int ContextLength = 512;

    /// <summary>The admin listener's port; <see cref="CreateAdminClient"/> reaches it.</summary>
    public const int AdminPort = 9901;

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Router:Workers:LocalPrefillMaxTokens"] = "8",
        ["Router:Workers:KvTransferProbeInterval"] = "00:00:00.2",
        ["Logging:LogLevel:Default"] = "Warning",
        // Functional tests hold requests in the queue on purpose; the tests of SLO-aware admission turn these back on.
        ["Router:Admission:TargetQueueDelay"] = "00:00:00",
        ["Router:Admission:DispatchDeadline"] = "00:00:00",
        ["Router:AdminPort"] = AdminPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private readonly bool _withModel;
    private readonly IReadOnlyList<string>? _servedNames;

    /// <param name="servedNames">The names the model is served under (as <c>Router:ServedModelNames</c> sets them); null serves <see cref="ModelName"/>.</param>
    public RouterFactory(IDictionary<string, string?>? settings = null, bool withModel = true, IReadOnlyList<string>? servedNames = null)
    {
        _withModel = withModel;
        _servedNames = servedNames;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public FakeWorkers Workers { get; } = new();

    /// <summary>Runs after the factory's own service replacements (e.g. a rate limiter on virtual time).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>A client whose connections arrive on the admin listener.</summary>
    public HttpClient CreateAdminClient() => CreateDefaultClient(new Uri($"http://localhost:{AdminPort}"));

    public ConcurrentQueue<CompletionRecord> Completions { get; } = new();

    public WorkerRegistry Registry => Services.GetRequiredService<WorkerRegistry>();

    /// <summary>Publishes a fresh snapshot for a worker (as its pub/sub message would).</summary>
    public void Announce(string appId, WorkerRole role, int running = 0, int maxRunning = 64, double kvUsage = 0.1, long sequence = 0, IReadOnlyList<string>? cachedHashes = null, double utilization = 0.2) =>
        Registry.Apply(new WorkerLoadSnapshot
        {
            AppId = appId,
            Role = role,
            InstanceId = appId + "-instance",
            Sequence = sequence == 0 ? Interlocked.Increment(ref _sequence) : sequence,
            TimestampUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            Model = ModelName,
            RunningSequences = running,
            MaxRunningSequences = maxRunning,
            KvBlocksUsed = (int)(kvUsage * 1000),
            KvBlocksTotal = 1000,
            Utilization = utilization,
            CachedBlockHashes = cachedHashes,
        });

    /// <summary>One prefill, one decode and a ready kv-transfer.</summary>
    public void AnnounceDefaultWorkers()
    {
        Announce(AppIds.Prefill, WorkerRole.Prefill);
        Announce(AppIds.Decode, WorkerRole.Decode);
        Registry.ReportKvTransferProbe(true);
    }

    private long _sequence;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
        builder.ConfigureTestServices(services =>
        {
            if (_withModel)
            {
                services.AddSingleton(new ServedModel(ModelName, ContextLength, new FakeTokenizer(), new FakeChatTemplate(), DateTimeOffset.UnixEpoch, _servedNames));
            }

            services.AddSingleton<IWorkerClient>(Workers);
            services.AddSingleton<ICompletionSink>(new RecordingSink(Completions));
            services.AddSingleton<IStartupFilter, ListenerPortFilter>();
            ConfigureServices?.Invoke(services);
        });
    }

    /// <summary>
    /// The test server has no sockets: each request's connection gets the port its URL names, as Kestrel gives the port
    /// of the listener that accepted it.
    /// </summary>
    private sealed class ListenerPortFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.LocalPort = context.Request.Host.Port ?? 80;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    private sealed class RecordingSink(ConcurrentQueue<CompletionRecord> records) : ICompletionSink
    {
        public void Publish(CompletionRecord record) => records.Enqueue(record);
    }
}
