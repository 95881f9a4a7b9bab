using Dapr;
using Dapr.Client;
using Microsoft.Extensions.Options;
using MoeDapr.Contracts;

namespace MoeDapr.Prefill;

/// <summary>Publishes a <see cref="WorkerLoadSnapshot"/> on <see cref="PubSub.WorkerLoadTopic"/> every <c>Worker:LoadInterval</c>.</summary>
public sealed class LoadSnapshotPublisher(
    DaprClient dapr, EngineHost host, LoadMeter load, IOptions<PrefillOptions> options, TimeProvider time, ILogger<LoadSnapshotPublisher> logger)
    : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(2);
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private long _sequence;
    private bool _failing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.LoadInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var snapshot = Build(settings);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(PublishTimeout);
                await dapr.PublishEventAsync(PubSub.Name, PubSub.WorkerLoadTopic, snapshot, timeout.Token);
                _failing = false;
            }
            catch (Exception e) when (e is DaprException or OperationCanceledException && !stoppingToken.IsCancellationRequested)
            {
                // One warning per outage: the sidecar may start after the app.
                if (!_failing)
                {
                    Log.PublishFailed(logger, e.Message);
                    _failing = true;
                }
            }
        }
    }

    /// <summary>The snapshot for the interval that just ended.</summary>
    public WorkerLoadSnapshot Build(PrefillOptions settings)
    {
        var (utilization, tokensPerSecond, running, inFlightTokens) = load.Sample();
        var engine = host.Engine;
        var stats = engine?.Stats;
        return new WorkerLoadSnapshot
        {
            AppId = settings.AppId,
            Role = WorkerRole.Prefill,
            InstanceId = _instanceId,
            Sequence = Interlocked.Increment(ref _sequence),
            TimestampUnixMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
            IntervalMs = (int)settings.LoadInterval.TotalMilliseconds,
            Model = settings.ResolveModelName(),
            Accepting = engine is not null,
            QueuedRequests = stats?.Waiting ?? 0,
            QueuedTokens = inFlightTokens,
            RunningSequences = running,
            KvBlocksUsed = stats?.KvBlocksUsed ?? 0,
            KvBlocksTotal = stats?.KvBlocksTotal ?? 0,
            Utilization = utilization,
            TokensPerSecond = tokensPerSecond,
            BlockSize = engine?.Options.BlockSize ?? 16,
        };
    }
}
