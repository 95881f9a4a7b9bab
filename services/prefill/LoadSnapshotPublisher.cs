using Dapr.Client;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.ServiceDefaults;

namespace MoeDapr.Prefill;

/// <summary>Publishes a <see cref="WorkerLoadSnapshot"/> on <see cref="PubSub.WorkerLoadTopic"/> every <c>Worker:LoadInterval</c>.</summary>
public sealed class LoadSnapshotPublisher(
    DaprClient dapr, EngineHost host, LoadMeter load, IOptions<PrefillOptions> options, TimeProvider time, ILogger<LoadSnapshotPublisher> logger)
    : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);
    private readonly BestEffortPublisher _publisher = new(dapr, PubSub.Name, PublishTimeout);
    private readonly LoadSnapshotStamp _stamp = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.LoadInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await _publisher.PublishAsync(PubSub.WorkerLoadTopic, Build(settings), reason => Log.PublishFailed(logger, reason), stoppingToken);
        }
    }

    /// <summary>The snapshot for the interval that just ended.</summary>
    public WorkerLoadSnapshot Build(PrefillOptions settings)
    {
        var (utilization, tokensPerSecond, running, inFlightTokens) = load.Sample();
        var engine = host.Engine;
        var stats = engine?.Stats;
        return _stamp.Next(settings, WorkerRole.Prefill, engine, stats, time.GetUtcNow()) with
        {
            QueuedTokens = inFlightTokens,
            RunningSequences = running,
            Utilization = utilization,
            TokensPerSecond = tokensPerSecond,
        };
    }
}
