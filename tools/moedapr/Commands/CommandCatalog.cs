using System.CommandLine;

namespace MoeDapr.Cli.Commands;

/// <summary>Every top-level command of the CLI.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return ModelCommands.Create(); // model init | inspect
        // logits, generate
        // up
        yield return LoadtestCommand.Create();
        yield return EplbCommand.Create();
        yield return Bench();
    }

    /// <summary><c>moedapr bench ...</c>: one subcommand per benchmark, each printing its figures.</summary>
    private static Command Bench() => new("bench", "Measure performance and print the figures.")
    {
        BenchKvCommand.Create(),
        BenchSidecarCommand.Create(),
        BenchEplbCommand.Create(),
    };
}
