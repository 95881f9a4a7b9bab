namespace MoeDapr.Contracts;

/// <summary>How a request was served.</summary>
public static class ServingPaths
{
    /// <summary>Prefill on a prefill worker, KV moved through kv-transfer, decode on a decode worker.</summary>
    public const string Disaggregated = "disaggregated";

    /// <summary>Decode prefilled a short or mostly cached prompt itself.</summary>
    public const string LocalPrefill = "local-prefill";

    /// <summary>No healthy prefill path: decode served the whole request.</summary>
    public const string Aggregated = "aggregated";
}
