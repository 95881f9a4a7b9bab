using Dapr.Client;
using Microsoft.Extensions.Logging;
using MoeDapr.Contracts;
using MoeDapr.Router.Diagnostics;

namespace MoeDapr.Router.Generation;

/// <summary>Publishes <see cref="CompletionRecord"/>s on <see cref="PubSub.CompletionsTopic"/>, each with a short deadline.</summary>
public sealed class DaprCompletionSink(DaprClient dapr, ILogger<DaprCompletionSink> logger) : ICompletionSink
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(2);

    public void Publish(CompletionRecord record) => _ = PublishAsync(record);

    private async Task PublishAsync(CompletionRecord record)
    {
        try
        {
            using var timeout = new CancellationTokenSource(PublishTimeout);
            await dapr.PublishEventAsync(PubSub.Name, PubSub.CompletionsTopic, record, timeout.Token);
        }
        catch (Exception ex)
        {
            Log.CompletionPublishFailed(logger, record.RequestId, ex.Message);
        }
    }
}
