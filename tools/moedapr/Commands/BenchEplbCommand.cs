using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MoeDapr.Cli.Bench;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary>
/// <c>moedapr bench eplb</c>: on a model with a skewed router, the expert-load imbalance and the placement balancedness
/// before EPLB (R = experts, contiguous split) and after (DeepSeek EPLB, R = experts + ranks); decode tokens/s at each EP
/// size with the balancer off and on; and the serving pause per layer moved, measured while a batch decodes.
/// All EP ranks share this machine's device, so ranks run one after another: besides the measured tokens/s the
/// table gives the tokens/s the same steps would reach with ranks in parallel (each step's expert time = its slowest rank).
/// </summary>
internal static class BenchEplbCommand
{
    private const int UsageError = 2;

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Checkpoint folder; without it the --preset Mixtral is built in memory with --router-skew." };
        var preset = new Option<string>("--preset") { Description = "Size of the in-memory model: tiny, demo or bench.", DefaultValueFactory = _ => "bench" };
        var skew = new Option<double>("--router-skew") { Description = "Router skew of the in-memory model (see model init).", DefaultValueFactory = _ => 1.5 };
        var ranks = new Option<string>("--ranks") { Description = "EP sizes to measure, comma-separated.", DefaultValueFactory = _ => "1,2,4" };
        var batch = new Option<int>("--batch") { Description = "Sequences decoded together.", DefaultValueFactory = _ => 8 };
        var tokens = new Option<int>("--tokens") { Description = "Output tokens per sequence.", DefaultValueFactory = _ => 24 };
        var prompt = new Option<int>("--prompt") { Description = "Prompt tokens per sequence.", DefaultValueFactory = _ => 32 };
        var threads = new Option<int>("--threads") { Description = "TorchSharp threads; 0 leaves the default.", DefaultValueFactory = _ => 0 };
        var command = new Command("eplb", "Expert load balance and decode tokens/s with the EPLB balancer off and on, per EP size; the pause per layer moved.")
        {
            model, preset, skew, ranks, batch, tokens, prompt, threads,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new EplbBenchSettings(parse.GetValue(batch), parse.GetValue(tokens), parse.GetValue(prompt), parse.GetValue(threads));
            if (Validate(parse.GetValue(model), parse.GetValue(preset)!, parse.GetValue(skew), parse.GetValue(ranks)!, settings) is { } error)
            {
                await Console.Error.WriteLineAsync(error).ConfigureAwait(false);
                return UsageError;
            }

            var sizes = parse.GetValue(ranks)!.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            using var source = Open(parse.GetValue(model), parse.GetValue(preset)!, parse.GetValue(skew), out var config, out var description);
            var bench = new EplbBench(config, source, settings);
            var report = await bench.RunAsync(description, sizes, cancellationToken).ConfigureAwait(false);
            Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    private static string? Validate(string? model, string preset, double skew, string ranks, EplbBenchSettings settings)
    {
        if (model is not null && !File.Exists(Path.Combine(model, "config.json")))
        {
            return $"--model: \"{model}\" holds no config.json";
        }

        if (model is null && !ModelPresets.TryParsePreset(preset, out _))
        {
            return $"--preset: unknown preset \"{preset}\"; expected one of {string.Join(", ", ModelPresets.PresetNames)}";
        }

        if (!double.IsFinite(skew) || skew < 0)
        {
            return "--router-skew: must be a finite number of at least 0";
        }

        var sizes = ranks.Split(',');
        if (sizes.Length == 0 || sizes.Any(s => !int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var m) || m is < 1 or > 64))
        {
            return $"--ranks: \"{ranks}\" is not a comma-separated list of EP sizes between 1 and 64";
        }

        return settings switch
        {
            { Batch: < 1 or > 256 } => "--batch: must be between 1 and 256",
            { Tokens: < 4 or > 4096 } => "--tokens: must be between 4 and 4096",
            { Prompt: < 1 or > 4096 } => "--prompt: must be between 1 and 4096",
            { Threads: < 0 } => "--threads: must not be negative",
            _ => null,
        };
    }

    private static IWeightSource Open(string? model, string preset, double skew, out ModelConfig config, out string description)
    {
        if (model is not null)
        {
            var checkpoint = CheckpointLoader.Open(model);
            config = checkpoint.Config;
            description = Path.GetFullPath(model);
            return checkpoint.Weights;
        }

        ModelPresets.TryParsePreset(preset, out var size);
        config = ModelPresets.Create(ModelFamily.Mixtral, size);
        description = string.Create(CultureInfo.InvariantCulture, $"mixtral {preset} in memory, router skew {skew}");
        return new InMemoryWeightSource(RandomWeights.Create(config, new RandomWeightOptions { Seed = 1234, RouterSkew = skew }));
    }
}
