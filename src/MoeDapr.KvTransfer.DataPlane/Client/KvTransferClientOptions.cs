namespace MoeDapr.KvTransfer.DataPlane.Client;

/// <summary>Settings of a <see cref="KvTransferClient"/>.</summary>
public sealed class KvTransferClientOptions
{
    /// <summary>This process's host identity; kv-transfer offers shared memory when it equals its own.</summary>
    public string HostId { get; set; } = Environment.MachineName;

    /// <summary>Who allocates (app id / instance), shown in kv-transfer's logs.</summary>
    public string Requester { get; set; } = AppDomain.CurrentDomain.FriendlyName;

    /// <summary>Set false to force the socket plane even on the same host.</summary>
    public bool UseSharedMemory { get; set; } = true;

    /// <summary>
    /// kv-transfer's control API as an absolute URL; empty means its methods through the Dapr sidecar (read by
    /// <see cref="KvTransferClientExtensions.AddKvTransferClient"/>, not by the client itself).
    /// </summary>
    public string ControlUrl { get; set; } = string.Empty;
}
