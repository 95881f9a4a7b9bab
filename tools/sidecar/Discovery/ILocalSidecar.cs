namespace MoeDapr.Sidecar.Discovery;

/// <summary>A sidecar in this process (multi-app mode or tests) that another sidecar can call directly.</summary>
public interface ILocalSidecar
{
    SidecarRecord Describe();
}
