namespace MoeDapr.Sidecar.Resources;

/// <summary>A malformed or unsupported resource file; the message names the file and the field.</summary>
public sealed class SidecarResourceException(string message) : Exception(message);
