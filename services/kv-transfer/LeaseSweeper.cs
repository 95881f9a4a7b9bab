using Microsoft.Extensions.Options;

namespace MoeDapr.KvTransfer;

/// <summary>Frees allocations whose lease has passed, every <see cref="KvTransferOptions.SweepInterval"/>.</summary>
public sealed class LeaseSweeper(KvBlockStore store, IOptions<KvTransferOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                store.SweepExpired();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
