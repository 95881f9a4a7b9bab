namespace MoeDapr.Sidecar.Discovery;

/// <summary>What one sidecar publishes about itself in the registry folder.</summary>
public sealed record SidecarRecord(
    string AppId,
    string Host,
    int HttpPort,
    int GrpcPort,
    int? AppPort,
    int Pid,
    string InstanceId,
    IReadOnlyList<string> ActorTypes,
    long HeartbeatUnixMs);
