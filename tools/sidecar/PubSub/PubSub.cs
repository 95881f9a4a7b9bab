namespace MoeDapr.Sidecar.PubSub;

/// <summary>A message as a pub/sub component hands it to the sidecar: the envelope bytes and the broker's id.</summary>
public sealed record BrokerMessage(string Topic, string BrokerId, ReadOnlyMemory<byte> Data);

/// <summary>Handles one message; true acknowledges it, false leaves it to the component's redelivery.</summary>
public delegate Task<bool> BrokerHandler(BrokerMessage message, CancellationToken cancellationToken);

/// <summary>A pub/sub component (pubsub.redis, pubsub.in-memory).</summary>
public interface IPubSub
{
    string Name { get; }

    string Type { get; }

    Task PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Starts a consumer of the topic in the consumer group; disposing it stops consuming.</summary>
    Task<IAsyncDisposable> SubscribeAsync(string topic, string consumerGroup, BrokerHandler handler, CancellationToken cancellationToken);
}
