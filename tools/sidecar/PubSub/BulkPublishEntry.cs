namespace MoeDapr.Sidecar.PubSub;

/// <summary>One event of a bulk publish, in either protocol: its id (echoed in failures), data, content type and metadata.</summary>
public sealed record BulkPublishEntry(string EntryId, byte[] Data, string ContentType, IReadOnlyDictionary<string, string> Metadata);
