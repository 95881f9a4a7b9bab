using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MoeDapr.Engine;
using MoeDapr.Engine.Training;
using MoeDapr.Model;
using Spectre.Console;

namespace MoeDapr.Cli.Commands;

/// <summary><c>moedapr eval perplexity</c>: token-level perplexity of a text under a model, computed in process by the engine.</summary>
internal static class EvalPerplexityCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder (Hugging Face layout, with tokenizer.json).", Required = true };
        var text = new Option<string>("--text") { Description = "UTF-8 text file to score.", Required = true };
        var window = new Option<int?>("--window") { Description = $"Sliding window in tokens (default: the model's context, at most {PerplexityEvaluator.DefaultMaxWindow})." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Score only the first N tokens of the text." };
        var device = EngineCommandOptions.Device();
        var dtype = EngineCommandOptions.Dtype();
        var command = new Command("perplexity", "Score a text: tokens, mean negative log-likelihood and perplexity (a table, then JSON).")
        {
            model, text, window, maxTokens, device, dtype,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelDir = parse.GetValue(model)!;
            if (!Directory.Exists(modelDir))
            {
                return EngineCommandOptions.Usage($"--model: model folder \"{modelDir}\" not found");
            }

            var textFile = parse.GetValue(text)!;
            if (!File.Exists(textFile))
            {
                return EngineCommandOptions.Usage($"--text: file \"{textFile}\" not found");
            }

            if (parse.GetValue(maxTokens) is { } cap && cap < 2)
            {
                return EngineCommandOptions.Usage($"--max-tokens: must be at least 2 (got {cap})");
            }

            ModelConfig config;
            try
            {
                config = ModelConfig.Load(modelDir);
            }
            catch (ModelFormatException e)
            {
                return EngineCommandOptions.Fail(e.Message);
            }

            var windowValue = parse.GetValue(window) ?? Math.Min(config.MaxPositionEmbeddings, PerplexityEvaluator.DefaultMaxWindow);
            if (windowValue < 2 || windowValue > config.MaxPositionEmbeddings)
            {
                return EngineCommandOptions.Usage($"--window: must be between 2 and the model's context of {config.MaxPositionEmbeddings} tokens (got {windowValue})");
            }

            var options = new EngineOptions
            {
                Device = parse.GetValue(device)!,
                Dtype = parse.GetValue(dtype)!,
                NumBlocks = (windowValue / 16) + 2,
                MaxSequenceLength = windowValue,
            };
            if (EngineCommandOptions.ValidateOptions(options) is { } optionError)
            {
                return EngineCommandOptions.Usage(optionError);
            }

            return await EngineSession.RunAsync(modelDir, options, async session =>
            {
                if (session.Tokenizer is null)
                {
                    return EngineCommandOptions.Usage($"--model: \"{modelDir}\" has no tokenizer.json to encode the text with");
                }

                var tokens = session.Tokenizer.Encode(await File.ReadAllTextAsync(textFile, cancellationToken));
                if (parse.GetValue(maxTokens) is { } limit && tokens.Count > limit)
                {
                    tokens = tokens.Take(limit).ToArray();
                }

                if (tokens.Count < 2)
                {
                    return EngineCommandOptions.Usage($"--text: \"{textFile}\" encodes to fewer than two tokens");
                }

                var clock = Stopwatch.StartNew();
                var result = await PerplexityEvaluator.EvaluateAsync(session.Engine, tokens, windowValue, cancellationToken: cancellationToken);
                Report(modelDir, textFile, session.Engine.Options.ResolveDtype(session.Engine.Options.ResolveDevice()).ToString(), result, clock.Elapsed);
                return 0;
            }, cancellationToken);
        });
        return command;
    }

    private static void Report(string model, string text, string dtype, PerplexityResult result, TimeSpan elapsed)
    {
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("tokens scored", result.Tokens.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("window", result.Window.ToString(CultureInfo.InvariantCulture));
        table.AddRow("mean NLL (nats/token)", result.MeanNll.ToString("F4", CultureInfo.InvariantCulture));
        table.AddRow("perplexity", result.Perplexity.ToString("F3", CultureInfo.InvariantCulture));
        table.AddRow("compute dtype", Markup.Escape(dtype));
        AnsiConsole.Write(table);
        var report = new JsonObject
        {
            ["model"] = Path.GetFullPath(model),
            ["text"] = Path.GetFullPath(text),
            ["tokens"] = result.Tokens,
            ["window"] = result.Window,
            ["mean_nll"] = result.MeanNll,
            ["perplexity"] = result.Perplexity,
            ["dtype"] = dtype,
            ["seconds"] = Math.Round(elapsed.TotalSeconds, 2),
        };
        Console.WriteLine(report.ToJsonString());
    }
}
