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
        yield return BenchEngineCommand.Create(); // bench engine
        // bench engine | serving | sidecar
        // up
        // loadtest
        yield return EplbCommand.Create();
        yield break;
    }
}
