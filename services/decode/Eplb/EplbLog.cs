namespace MoeDapr.Decode.Eplb;

/// <summary>Log messages of expert telemetry and live rebalancing; event ids 280-299 (decode's range is 200-299).</summary>
internal static partial class EplbLog
{
    [LoggerMessage(280, LogLevel.Information, "Expert usage: layer {Layer} {Usage} gini={Gini:F3} max/mean={MaxOverMean:F2}")]
    public static partial void ExpertUsage(ILogger logger, int layer, string usage, double gini, double maxOverMean);

    [LoggerMessage(281, LogLevel.Warning, "Expert load imbalance on layer {Layer}: gini={Gini:F3} max/mean={MaxOverMean:F2}")]
    public static partial void ExpertImbalance(ILogger logger, int layer, double gini, double maxOverMean);

    [LoggerMessage(282, LogLevel.Information, "EPLB: expert {Expert} replicated to rank {Rank} (load {Load:F2}) on layer {Layer}")]
    public static partial void ExpertReplicated(ILogger logger, int expert, int rank, double load, int layer);

    [LoggerMessage(283, LogLevel.Information, "EPLB: expert {Expert} moved to rank {Rank} (load {Load:F2}) on layer {Layer}")]
    public static partial void ExpertMoved(ILogger logger, int expert, int rank, double load, int layer);

    [LoggerMessage(284, LogLevel.Information, "EPLB: plan {Version} applied to {Layers} layers in {Milliseconds:F1} ms (longest pause {PauseMs:F2} ms per layer); balancedness {Before:F3} -> {After:F3}")]
    public static partial void PlanApplied(ILogger logger, long version, int layers, double milliseconds, double pauseMs, double before, double after);

    [LoggerMessage(285, LogLevel.Warning, "EPLB: plan {Version} ignored: {Reason}")]
    public static partial void PlanIgnored(ILogger logger, long version, string reason);

    [LoggerMessage(286, LogLevel.Warning, "EPLB: applying plan {Version} failed; the placement stays partly moved until the next plan")]
    public static partial void PlanFailed(ILogger logger, long version, Exception error);

    [LoggerMessage(287, LogLevel.Warning, "EPLB: talking to the coordinator failed: {Reason}")]
    public static partial void CoordinatorUnreachable(ILogger logger, string reason);

    [LoggerMessage(288, LogLevel.Warning, "EPLB: publishing on {Topic} failed: {Reason}")]
    public static partial void PublishFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(289, LogLevel.Information, "EPLB coordinator {Model}: plan {Version} ({Reason}) over {Steps} steps, balancedness {Before:F3} -> {After:F3}")]
    public static partial void PlanDecided(ILogger logger, string model, long version, string reason, long steps, double before, double after);

    [LoggerMessage(290, LogLevel.Debug, "EPLB coordinator {Model}: kept plan {Version} ({Reason}): balancedness {Before:F3}, the new placement {After:F3}")]
    public static partial void PlanKept(ILogger logger, string model, long version, string reason, double before, double after);

    [LoggerMessage(291, LogLevel.Warning, "EPLB coordinator {Model}: window from {AppId} refused: {Reason}")]
    public static partial void WindowRefused(ILogger logger, string model, string appId, string reason);
}
