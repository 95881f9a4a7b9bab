namespace MoeDapr.Contracts;

/// <summary>
/// Dapr app ids of the MoeDapr services. Each worker replica has an app id of its own: the first replica uses
/// the base id (<c>prefill</c>), further ones append <c>-N</c> (<c>prefill-2</c>, <c>prefill-3</c>); the id a
/// replica publishes in its <see cref="WorkerLoadSnapshot"/> is the id the router invokes.
/// </summary>
public static class AppIds
{
    public const string Router = "router";
    public const string Prefill = "prefill";
    public const string Decode = "decode";
    public const string KvTransfer = "kv-transfer";

    /// <summary>The app id of replica <paramref name="replica"/> (1-based) of a worker kind.</summary>
    public static string Replica(string baseId, int replica)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(replica);
        return replica == 1 ? baseId : $"{baseId}-{replica}";
    }
}
