namespace MoeDapr.WorkerHosting;

/// <summary>The checkpoint folder a worker serves (its service's <c>Model:Path</c> setting).</summary>
public sealed record ModelLocation(string Path);
