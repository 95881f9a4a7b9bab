namespace MoeDapr.Sidecar.Hosting;

/// <summary>A setting, flag or resource file the sidecar cannot start with.</summary>
public sealed class SidecarConfigurationException(string message) : Exception(message);
