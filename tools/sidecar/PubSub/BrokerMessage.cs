namespace MoeDapr.Sidecar.PubSub;

/// <summary>A message as a pub/sub component hands it to the sidecar: the envelope bytes and the broker's id.</summary>
public sealed record BrokerMessage(string Topic, string BrokerId, ReadOnlyMemory<byte> Data);
