using System.CommandLine;

namespace MoeDapr.Cli.Commands;

/// <summary>Every top-level command of the CLI.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return ModelCommands.Create(); // model init | inspect
        // logits, generate
        // bench engine | serving | sidecar
        yield return UpCommand.Create(); // up
        // loadtest
        yield return EplbCommand.Create();
        yield return new Command("bench", "Print performance figures.") { BenchServingCommand.Create() };
        yield break;
    }
}
