using System.CommandLine;
using System.Text.Json.Nodes;
using MoeDapr.Engine;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary><c>moedapr logits</c>: next-token logits after a token sequence, as one JSON object.</summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = ModelSpec.EngineHelp, Required = true };
        var tokens = new Option<string>("--tokens") { Description = "Comma-separated token ids, e.g. 5,17,42.", Required = true };
        var device = EngineCommandOptions.Device();
        var dtype = EngineCommandOptions.Dtype();
        var command = new Command("logits", "Print the fp32 next-token logits after the last token as JSON ({\"logits\": [...]}).") { model, tokens, device, dtype };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelValue = parse.GetValue(model)!;
            if (EngineSession.Validate(modelValue) is { } modelError)
            {
                return EngineCommandOptions.Usage(modelError);
            }

            if (!EngineCommandOptions.TryParseTokens(parse.GetValue(tokens)!, "--tokens", out var ids, out var tokenError))
            {
                return EngineCommandOptions.Usage(tokenError);
            }

            var options = new EngineOptions { Device = parse.GetValue(device)!, Dtype = parse.GetValue(dtype)!, NumBlocks = (ids.Length / 16) + 2, MaxSequenceLength = ids.Length + 1 };
            if (EngineCommandOptions.ValidateOptions(options) is { } optionError)
            {
                return EngineCommandOptions.Usage(optionError);
            }

            return await EngineSession.RunAsync(modelValue, options, async session =>
            {
                if (session.CheckVocabulary(ids) is { } vocabularyError)
                {
                    return EngineCommandOptions.Usage(vocabularyError);
                }

                var logits = await session.Engine.LogitsAsync(ids, cancellationToken);
                var json = new JsonObject
                {
                    ["tokens"] = new JsonArray(ids.Select(t => (JsonNode)t).ToArray()),
                    ["logits"] = new JsonArray(logits.Select(x => (JsonNode)x).ToArray()),
                };
                Console.WriteLine(json.ToJsonString());
                return 0;
            }, cancellationToken);
        });
        return command;
    }
}
