namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Routes of the control API, relative to the app (prefix with the sidecar's invoke URL), and the names in its answers.</summary>
public static class KvTransferRoutes
{
    public const string AppId = "kv-transfer";
    public const string Allocations = "kv/allocations";
    public const string PrefixLocate = "kv/prefix/locate";

    /// <summary>The ProblemDetails member that carries a refusal's <see cref="KvTransferErrorReason"/> (its name as a string).</summary>
    public const string ReasonMember = "reason";

    public static string Allocation(string handle) => $"{Allocations}/{Uri.EscapeDataString(handle)}";

    public static string Commit(string handle) => $"{Allocation(handle)}/commit";

    public static string Renew(string handle) => $"{Allocation(handle)}/renew";
}
