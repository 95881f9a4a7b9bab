namespace MoeDapr.Router.Policies;

/// <summary>The names options may pick policies by.</summary>
public static class PolicyNames
{
    public const string PriorityAdmission = "priority";
    public const string FifoAdmission = "fifo";
    public const string AdaptiveBatching = "adaptive";
    public const string FixedBatching = "fixed";
    public const string PrefixAware = "prefix-aware";
    public const string PowerOfTwo = "power-of-two";
    public const string LeastLoaded = "least-loaded";

    public static readonly IReadOnlyList<string> Admission = [PriorityAdmission, FifoAdmission];
    public static readonly IReadOnlyList<string> Batching = [AdaptiveBatching, FixedBatching];
    public static readonly IReadOnlyList<string> Prefill = [PrefixAware, PowerOfTwo];
    public static readonly IReadOnlyList<string> Decode = [PowerOfTwo, LeastLoaded];
}
