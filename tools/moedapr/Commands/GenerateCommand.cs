using System.CommandLine;
using System.Text.Json.Nodes;
using MoeDapr.Engine;
using MoeDapr.Contracts;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary><c>moedapr generate</c>: generate tokens for one prompt and print them (and their text) as JSON.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = ModelSpec.EngineHelp, Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "Prompt text (needs the model's tokenizer.json)." };
        var tokens = new Option<string?>("--tokens") { Description = "Prompt as comma-separated token ids." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", Required = true };
        var temperature = new Option<double>("--temperature") { Description = "0 is greedy.", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass in (0, 1].", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong?>("--seed") { Description = "Seed: the same seed gives the same tokens." };
        var ep = new Option<int>("--ep") { Description = "Expert-parallel ranks.", DefaultValueFactory = _ => 1 };
        var device = EngineCommandOptions.Device();
        var dtype = EngineCommandOptions.Dtype();
        var command = new Command("generate", "Generate tokens and print {\"tokens\": [...], \"text\": ...} as JSON.")
        {
            model, prompt, tokens, maxTokens, temperature, topP, seed, ep, device, dtype,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var modelValue = parse.GetValue(model)!;
            if (EngineSession.Validate(modelValue) is { } modelError)
            {
                return EngineCommandOptions.Usage(modelError);
            }

            var promptText = parse.GetValue(prompt);
            var tokenText = parse.GetValue(tokens);
            if ((promptText is null) == (tokenText is null))
            {
                return EngineCommandOptions.Usage("--prompt, --tokens: give exactly one of them");
            }

            int[] ids = [];
            if (tokenText is not null && !EngineCommandOptions.TryParseTokens(tokenText, "--tokens", out ids, out var tokenError))
            {
                return EngineCommandOptions.Usage(tokenError);
            }

            var sampling = new SamplingParams
            {
                MaxTokens = parse.GetValue(maxTokens),
                Temperature = (float)parse.GetValue(temperature),
                TopP = (float)parse.GetValue(topP),
                Seed = parse.GetValue(seed) is { } bits ? unchecked((long)bits) : null,
            };
            if (sampling.Validate() is { } problem)
            {
                // "topP: reason" names the field as the wire does; the flag is its kebab-case.
                var field = problem[..problem.IndexOf(':', StringComparison.Ordinal)];
                var flag = string.Concat(field.Select(c => char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : c.ToString()));
                return EngineCommandOptions.Usage($"--{flag}{problem[field.Length..]}");
            }

            var options = new EngineOptions
            {
                Device = parse.GetValue(device)!,
                Dtype = parse.GetValue(dtype)!,
                ExpertParallelSize = parse.GetValue(ep),
                KvCacheBytes = 64L << 20,
            };
            if (EngineCommandOptions.ValidateOptions(options) is { } optionError)
            {
                return EngineCommandOptions.Usage(optionError);
            }

            return await EngineSession.RunAsync(modelValue, options, async session =>
            {
                if (promptText is not null)
                {
                    if (session.Tokenizer is null)
                    {
                        return EngineCommandOptions.Usage("--prompt: this model has no usable tokenizer.json; give --tokens instead");
                    }

                    ids = [.. session.Tokenizer.Encode(promptText)];
                }

                if (session.CheckVocabulary(ids) is { } vocabularyError)
                {
                    return EngineCommandOptions.Usage(vocabularyError);
                }

                var generated = new List<int>();
                FinishReason? finish = null;
                await foreach (var output in session.Engine.GenerateAsync(new GenerateRequest { RequestId = "cli", PromptTokens = ids, Sampling = sampling }, cancellationToken))
                {
                    if (output.TokenId >= 0)
                    {
                        generated.Add(output.TokenId);
                    }

                    finish = output.FinishReason;
                }

                var json = new JsonObject
                {
                    ["tokens"] = new JsonArray(generated.Select(t => (JsonNode)t).ToArray()),
                    ["text"] = session.Tokenizer?.Decode(generated) ?? string.Empty,
                    ["finish_reason"] = finish?.ToString().ToLowerInvariant(),
                };
                Console.WriteLine(json.ToJsonString());
                return 0;
            }, cancellationToken);
        });
        return command;
    }
}
