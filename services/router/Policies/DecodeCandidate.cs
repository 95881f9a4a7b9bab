namespace MoeDapr.Router.Policies;

/// <summary>A decode worker able to take a sequence.</summary>
public sealed record DecodeCandidate(string AppId, int RunningSequences, int QueuedSequences, int MaxRunningSequences, double KvUsage)
{
    /// <summary>Occupied share of the batch slots (running plus waiting) plus KV usage; lower is better.</summary>
    public double Load => (MaxRunningSequences > 0 ? (double)(RunningSequences + QueuedSequences) / MaxRunningSequences : (RunningSequences + QueuedSequences) / 64.0) + KvUsage;
}
