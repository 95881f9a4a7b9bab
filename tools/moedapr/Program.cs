using System.CommandLine;
using MoeDapr.Cli.Commands;

var root = new RootCommand("MoeDapr: serve Mixture-of-Experts models with disaggregated prefill and decode over Dapr.");

// One line per command group; each group lives in Commands/.
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
