using MoeDapr.Contracts;
using MoeDapr.Engine;

namespace MoeDapr.WorkerHosting;

/// <summary>
/// The part of a load snapshot every engine worker fills in the same way: who it is (app id, a per-process instance id),
/// which snapshot this is and when, the model, and the engine's queue and KV figures. Each service adds its role's own.
/// </summary>
public sealed class LoadSnapshotStamp
{
    private readonly string _instanceId = Guid.NewGuid().ToString("N");
    private long _sequence;

    /// <summary>
    /// The next snapshot of this instance at <paramref name="now"/>, from one read of the engine's
    /// <paramref name="stats"/> (null while no engine is loaded); the caller sets its load figures with <c>with</c>.
    /// </summary>
    public WorkerLoadSnapshot Next(EngineWorkerOptions settings, WorkerRole role, InferenceEngine? engine, EngineStats? stats, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new WorkerLoadSnapshot
        {
            AppId = settings.AppId,
            Role = role,
            InstanceId = _instanceId,
            Sequence = Interlocked.Increment(ref _sequence),
            TimestampUnixMs = now.ToUnixTimeMilliseconds(),
            IntervalMs = (int)settings.LoadInterval.TotalMilliseconds,
            Model = settings.ResolveModelName(),
            Accepting = engine is not null,
            QueuedRequests = stats?.Waiting ?? 0,
            KvBlocksUsed = stats?.KvBlocksUsed ?? 0,
            KvBlocksTotal = stats?.KvBlocksTotal ?? 0,
            BlockSize = engine?.Options.BlockSize ?? 16,
        };
    }
}
