using System.CommandLine;

namespace MoeDapr.Cli.Commands;

/// <summary>Every top-level command of the CLI.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        // model init | inspect
        // logits, generate
        // bench engine | serving | sidecar
        // up
        // loadtest
        // eplb
        yield return BenchSidecarCommand.Create();
    }
}
