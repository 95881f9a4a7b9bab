namespace MoeDapr.Sidecar.PubSub;

/// <summary>Handles one message; true acknowledges it, false leaves it to the component's redelivery.</summary>
public delegate Task<bool> BrokerHandler(BrokerMessage message, CancellationToken cancellationToken);
