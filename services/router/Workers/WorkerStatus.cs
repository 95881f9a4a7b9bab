using MoeDapr.Contracts;

namespace MoeDapr.Router.Workers;

/// <summary>One worker as the admin view and readiness report it.</summary>
public sealed record WorkerStatus(string AppId, WorkerRole Role, bool Fresh, bool Available, int InFlight, double SnapshotAgeSeconds);
