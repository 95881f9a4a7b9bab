using MoeDapr.Router.Policies;

namespace MoeDapr.Router.Workers;

/// <summary>
/// A usable decode worker's load: its last snapshot plus the sequences the router sent since (<see cref="InFlight"/>).
/// One formula for the registry and for a dispatch pass that adds its own placements before leasing them.
/// </summary>
public sealed record DecodeLoad(string AppId, int SnapshotRunning, int SnapshotQueued, int MaxRunningSequences, double KvUsage, bool KvSaturated, int InFlight)
{
    /// <summary>Streams the router opened since the snapshot are not in it yet.</summary>
    public int Running => Math.Max(SnapshotRunning, InFlight - SnapshotQueued);

    /// <summary>Sequences waiting for a batch slot.</summary>
    public int Waiting => Math.Max(SnapshotQueued, InFlight - SnapshotRunning);

    /// <summary>Not saturated: KV below the limit, and fewer sequences waiting for a slot than there are slots.</summary>
    public bool HasRoom => !KvSaturated && (MaxRunningSequences <= 0 || Waiting < MaxRunningSequences);

    public DecodeCandidate Candidate => new(AppId, Running, SnapshotQueued, MaxRunningSequences, KvUsage);

    /// <summary>The load once one more sequence is placed.</summary>
    public DecodeLoad WithOneMore() => this with { InFlight = InFlight + 1 };
}
