namespace MoeDapr.Sidecar.Actors;

/// <summary>The answer of an actor call: status, headers to pass back, and the whole body.</summary>
public sealed record ActorResponse(int StatusCode, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body, string? ContentType);
