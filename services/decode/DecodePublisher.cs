using System.Threading.Channels;
using Dapr.Client;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.ServiceDefaults;

namespace MoeDapr.Decode;

/// <summary>
/// Publishes what decode tells the rest of the system: a <see cref="WorkerLoadSnapshot"/> every
/// <c>Worker:LoadInterval</c> and the queued <see cref="CompletionRecord"/>s
/// (the "Expert usage" log line is Eplb/ExpertTelemetry's).
/// </summary>
public sealed class DecodePublisher(
    DaprClient dapr, EngineHost host, DecodeSessions sessions, Channel<CompletionRecord> completions,
    IOptions<DecodeOptions> options, TimeProvider time, ILogger<DecodePublisher> logger)
    : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);
    private readonly BestEffortPublisher _publisher = new(dapr, PubSub.Name, PublishTimeout);
    private readonly LoadSnapshotStamp _stamp = new();
    private long _lastGenerated;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.LoadInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await PublishAsync(PubSub.WorkerLoadTopic, Build(settings), stoppingToken);
            while (completions.Reader.TryRead(out var record))
            {
                await PublishAsync(PubSub.CompletionsTopic, record, stoppingToken);
            }
        }
    }

    /// <summary>The snapshot for the interval that just ended.</summary>
    public WorkerLoadSnapshot Build(DecodeOptions settings)
    {
        var engine = host.Engine;
        var stats = engine?.Stats;
        var generated = stats?.GeneratedTokens ?? 0;
        var tokens = generated - Interlocked.Exchange(ref _lastGenerated, generated);
        var maxBatch = engine?.Options.MaxBatchSize ?? 0;
        return _stamp.Next(settings, WorkerRole.Decode, engine, stats, time.GetUtcNow()) with
        {
            RunningSequences = stats?.Running ?? 0,
            MaxRunningSequences = maxBatch,
            Utilization = maxBatch > 0 ? Math.Min(1, (double)sessions.Count / maxBatch) : 0,
            TokensPerSecond = tokens / settings.LoadInterval.TotalSeconds,
        };
    }

    private Task PublishAsync<T>(string topic, T data, CancellationToken stoppingToken) =>
        _publisher.PublishAsync(topic, data, reason => Log.PublishFailed(logger, topic, reason), stoppingToken);
}
