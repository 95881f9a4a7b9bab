namespace MoeDapr.Sidecar.State;

/// <summary>An etag check failed (the stored version differs, or first-write found an existing key).</summary>
public sealed class StateEtagMismatchException(string key) : Exception($"possible etag mismatch for key {key}")
{
    public string Key { get; } = key;
}
