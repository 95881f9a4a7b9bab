using MoeDapr.Router.Options;

namespace MoeDapr.Router.Tests.Infrastructure;

/// <summary>Worker settings and load snapshots for tests of the registry and the policies reading it.</summary>
public static class Snapshots
{
    public static readonly WorkerOptions Settings = new() { StaleAfter = TimeSpan.FromSeconds(3), FailureCooldown = TimeSpan.FromSeconds(5), LocalPrefillMaxTokens = 32 };

    public static WorkerLoadSnapshot Snapshot(string appId, WorkerRole role, long sequence = 1, int running = 0, int queued = 0, int maxRunning = 16,
        double kvUsage = 0, long queuedTokens = 0, IReadOnlyList<string>? cached = null) => new()
    {
        AppId = appId,
        Role = role,
        InstanceId = "i-" + appId,
        Sequence = sequence,
        TimestampUnixMs = 0,
        RunningSequences = running,
        QueuedRequests = queued,
        MaxRunningSequences = maxRunning,
        KvBlocksUsed = (int)(kvUsage * 100),
        KvBlocksTotal = 100,
        QueuedTokens = queuedTokens,
        CachedBlockHashes = cached,
    };
}
