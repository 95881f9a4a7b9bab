using MoeDapr.Sidecar.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MoeDapr.Sidecar.Cli;

/// <summary>One app of a run file: its sidecar options, working folder, command and environment.</summary>
public sealed record RunFileApp(SidecarOptions Options, string WorkingDirectory, IReadOnlyList<string> Command, IReadOnlyDictionary<string, string> Environment);
