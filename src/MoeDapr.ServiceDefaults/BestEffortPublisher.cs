using Dapr;
using Dapr.Client;

namespace MoeDapr.ServiceDefaults;

/// <summary>
/// Publishes to one pub/sub component with a bound on each message's wait. Load snapshots, load windows and completion
/// records are best effort (the next interval carries fresh ones, and the sidecar may start after the app), so a failure
/// is never thrown: it is reported once per outage, and the first success ends the outage.
/// </summary>
public sealed class BestEffortPublisher(DaprClient dapr, string pubSubName, TimeSpan timeout)
{
    private bool _failing;

    /// <summary>
    /// Publishes <paramref name="data"/> on <paramref name="topic"/>; false when it failed. <paramref name="onOutage"/>
    /// gets the reason of the first failure after a success (or after start), so a long outage logs one line.
    /// </summary>
    public async Task<bool> PublishAsync<T>(string topic, T data, Action<string> onOutage, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(onOutage);
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            bounded.CancelAfter(timeout);
            await dapr.PublishEventAsync(pubSubName, topic, data, bounded.Token);
            _failing = false;
            return true;
        }
        catch (Exception e) when (e is DaprException or OperationCanceledException && !stoppingToken.IsCancellationRequested)
        {
            if (!_failing)
            {
                _failing = true;
                onOutage(e.Message);
            }

            return false;
        }
    }
}
