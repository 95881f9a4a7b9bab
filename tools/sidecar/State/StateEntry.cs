namespace MoeDapr.Sidecar.State;

/// <summary>A stored value and its etag.</summary>
public sealed record StateEntry(byte[] Data, string Etag);
