using Microsoft.Extensions.Options;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Workers;

/// <summary>Asks kv-transfer for readiness every probe interval (each call with a deadline of one interval).</summary>
public sealed class KvTransferProbe(IWorkerClient client, WorkerRegistry workers, TimeProvider time, IOptions<WorkerOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.KvTransferProbeInterval;
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            bool ready;
            try
            {
                using var deadline = new CancellationTokenSource(interval, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stoppingToken);
                ready = await client.IsReadyAsync(options.Value.KvTransferAppId, linked.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                ready = false;
            }

            workers.ReportKvTransferProbe(ready);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
