using System.CommandLine;

namespace MoeDapr.Cli.Commands;

/// <summary>Every top-level command of the CLI.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return ModelCommands.Create(); // model init | inspect
        yield return LogitsCommand.Create(); // logits
        yield return GenerateCommand.Create(); // generate
        yield return UpCommand.Create(); // up
        yield return LoadtestCommand.Create();
        yield return EplbCommand.Create();
        yield return Bench();
        yield return new Command("eval", "Measure model quality.") { EvalPerplexityCommand.Create() };
    }

    /// <summary><c>moedapr bench ...</c>: one subcommand per benchmark, each printing its figures.</summary>
    private static Command Bench() => new("bench", "Measure performance and print the figures.")
    {
        BenchEngineCommand.Create(),
        BenchKvCommand.Create(),
        BenchSidecarCommand.Create(),
        BenchServingCommand.Create(),
        BenchEplbCommand.Create(),
    };
}
