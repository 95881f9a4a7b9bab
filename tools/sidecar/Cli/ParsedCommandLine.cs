using MoeDapr.Sidecar.Hosting;

namespace MoeDapr.Sidecar.Cli;

/// <summary>What the command line asked for.</summary>
public sealed record ParsedCommandLine(
    SidecarOptions? Single,
    IReadOnlyList<string> AppCommand,
    string? RunFile,
    string? RegistryPath,
    string LogLevel,
    bool Help);
