namespace MoeDapr.Sidecar.PubSub;

/// <summary>A pub/sub component (pubsub.redis, pubsub.in-memory).</summary>
public interface IPubSub
{
    string Name { get; }

    string Type { get; }

    Task PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Starts a consumer of the topic in the consumer group; disposing it stops consuming.</summary>
    Task<IAsyncDisposable> SubscribeAsync(string topic, string consumerGroup, BrokerHandler handler, CancellationToken cancellationToken);
}
