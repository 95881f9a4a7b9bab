using System.CommandLine;
using System.Text.Json;
using MoeDapr.Cli.Loadtest;
using Spectre.Console;

namespace MoeDapr.Cli.Commands;

/// <summary><c>moedapr loadtest</c>: open-loop Poisson load against an OpenAI-compatible completions endpoint.</summary>
public static class LoadtestCommand
{
    private static readonly TimeSpan ModelDiscoveryTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Server base URL (or its /v1/completions URL).", Required = true };
        var duration = new Option<double>("--duration") { Description = "Seconds during which requests arrive.", Required = true };
        var qps = new Option<double>("--target-qps") { Description = "Mean arrival rate (Poisson), requests per second.", Required = true };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "max_tokens of every request.", Required = true };
        var promptMin = new Option<int>("--prompt-len-min") { Description = "Shortest prompt, in words.", Required = true };
        var promptMax = new Option<int>("--prompt-len-max") { Description = "Longest prompt, in words.", Required = true };
        var sharedPrefixLen = new Option<int>("--shared-prefix-len") { Description = "Words of a prefix shared by many prompts, prepended to each (prefix-cache workloads); 0: none." };
        var sharedPrefixes = new Option<int>("--shared-prefixes") { Description = "Distinct shared prefixes prompts draw from.", DefaultValueFactory = _ => 1 };
        var concurrency = new Option<int?>("--concurrency") { Description = "Most requests in flight; later arrivals are dropped and counted." };
        var stream = new Option<bool>("--stream") { Description = "Stream responses (SSE) and measure TTFT, TPOT and inter-token latency." };
        var sloTtft = new Option<double?>("--slo-ttft") { Description = "TTFT objective (ms) for goodput; needs --stream." };
        var sloTpot = new Option<double?>("--slo-tpot") { Description = "TPOT objective (ms) for goodput; needs --stream." };
        var outputJson = new Option<string?>("--output-json") { Description = "Write the report (with every request) to this JSON file." };
        var plot = new Option<string?>("--plot") { Description = "Write latency over time and latency CDFs to this .svg file." };
        var model = new Option<string?>("--model") { Description = "Model name to send; default: the first one the server lists at /v1/models." };
        var seed = new Option<int>("--seed") { Description = "Seed of arrivals and prompts.", DefaultValueFactory = _ => 1 };
        var requestTimeout = new Option<double>("--request-timeout") { Description = "Seconds before the client gives up on one request.", DefaultValueFactory = _ => 120 };

        var command = new Command("loadtest", "Offer open-loop Poisson load to an OpenAI-compatible /v1/completions and report throughput, latency and goodput.")
        {
            url, duration, qps, maxNewTokens, promptMin, promptMax, sharedPrefixLen, sharedPrefixes, concurrency, stream, sloTtft, sloTpot, outputJson, plot, model, seed, requestTimeout,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            new LoadtestSettings
            {
                Url = parse.GetRequiredValue(url),
                DurationSeconds = parse.GetValue(duration),
                TargetQps = parse.GetValue(qps),
                MaxNewTokens = parse.GetValue(maxNewTokens),
                PromptLengthMin = parse.GetValue(promptMin),
                PromptLengthMax = parse.GetValue(promptMax),
                SharedPrefixLength = parse.GetValue(sharedPrefixLen),
                SharedPrefixes = parse.GetValue(sharedPrefixes),
                Concurrency = parse.GetValue(concurrency),
                Stream = parse.GetValue(stream),
                SloTtftMs = parse.GetValue(sloTtft),
                SloTpotMs = parse.GetValue(sloTpot),
                OutputJson = parse.GetValue(outputJson),
                Plot = parse.GetValue(plot),
                Model = parse.GetValue(model),
                Seed = parse.GetValue(seed),
                RequestTimeoutSeconds = parse.GetValue(requestTimeout),
            },
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error,
            cancellationToken));
        return command;
    }

    /// <summary>Runs a load test; 0 when it ran (whatever the server answered), 1 with a message on bad arguments.</summary>
    public static async Task<int> RunAsync(LoadtestSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var problems = settings.Validate();
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await error.WriteLineAsync($"loadtest: {problem}");
            }

            return 1;
        }

        using var http = HttpCompletionClient.CreateHttpClient();
        var modelName = settings.Model
            ?? await HttpCompletionClient.DiscoverModelAsync(http, settings.ModelsUrl, ModelDiscoveryTimeout, cancellationToken);
        if (modelName is null)
        {
            await error.WriteLineAsync($"loadtest: --model not given and {settings.ModelsUrl} listed no model; pass --model.");
            return 1;
        }

        var time = TimeProvider.System;
        var client = new HttpCompletionClient(http, settings.CompletionsUrl, modelName, settings.MaxNewTokens, settings.Stream, settings.RequestTimeout, time);
        var runner = new LoadtestRunner(settings, client, time);
        var interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });

        if (!interactive)
        {
            // Tables of a redirected run go to a log or file: do not wrap them at a terminal's 80 columns.
            console.Profile.Width = 120;
        }

        console.WriteLine($"loadtest: {settings.TargetQps} QPS for {settings.DurationSeconds} s against {settings.CompletionsUrl} (model {modelName}{(settings.Stream ? ", streaming" : string.Empty)})");
        var result = await LoadtestConsole.ShowProgressAsync(console, interactive ? null : output, runner, settings, time, runner.RunAsync(cancellationToken));
        var report = LoadtestReport.Create(settings, result, modelName);
        LoadtestConsole.WriteSummary(console, report);

        if (settings.OutputJson is { } jsonPath)
        {
            CreateFolderOf(jsonPath);
            await using var file = File.Create(jsonPath);
            await JsonSerializer.SerializeAsync(file, report, LoadtestReport.JsonOptions, CancellationToken.None);
            console.WriteLine($"report: {Path.GetFullPath(jsonPath)}");
        }

        if (settings.Plot is { } plotPath)
        {
            CreateFolderOf(plotPath);
            await File.WriteAllTextAsync(plotPath, SvgPlot.Render(report, result.Requests.Where(r => r.Result.Outcome == RequestOutcome.Ok).SelectMany(r => r.Result.ItlMs)), CancellationToken.None);
            console.WriteLine($"plot: {Path.GetFullPath(plotPath)}");
        }

        return 0;
    }

    private static void CreateFolderOf(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
    }
}
