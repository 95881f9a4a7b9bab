using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MoeDapr.Engine.Training;
using MoeDapr.Model;

namespace MoeDapr.Cli.Commands;

/// <summary><c>moedapr model train</c>: train a small MoE and its tokenizer from scratch on text files, on the CPU.</summary>
internal static class ModelTrainCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Model family: qwen3_moe or mixtral.", Required = true };
        var preset = new Option<string>("--preset") { Description = "Architecture size: tiny, demo or bench.", DefaultValueFactory = _ => "demo" };
        var corpus = new Option<string[]>("--corpus") { Description = "UTF-8 text files to train on (each one a document).", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "Folder to write the trained checkpoint into (created if missing).", Required = true };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps (default 1000 when --minutes is not given)." };
        var minutes = new Option<double?>("--minutes") { Description = "Wall-clock budget in minutes; the learning-rate schedule follows elapsed time." };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights and the batch order.", DefaultValueFactory = _ => 1234 };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of the corpus held out for validation.", DefaultValueFactory = _ => 0.02 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate of AdamW.", DefaultValueFactory = _ => 2e-3 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 8 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per training sequence.", DefaultValueFactory = _ => 256 };
        var vocab = new Option<int?>("--vocab-size") { Description = "Vocabulary of the trained tokenizer (default: the preset's)." };
        var hidden = new Option<int?>("--hidden-size") { Description = "Hidden size instead of the preset's (heads follow it)." };
        var layers = new Option<int?>("--layers") { Description = "Decoder layers instead of the preset's." };
        var experts = new Option<int?>("--experts") { Description = "Routed experts per layer instead of the preset's." };
        var expertSize = new Option<int?>("--expert-size") { Description = "Intermediate size of one expert instead of the preset's." };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps.", DefaultValueFactory = _ => 50 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Measure validation perplexity every N steps.", DefaultValueFactory = _ => 100 };
        var auxCoef = new Option<double>("--router-aux-coef") { Description = "Weight of the router load-balancing loss.", DefaultValueFactory = _ => 0.01 };
        var dtype = new Option<string>("--dtype") { Description = "Weight dtype on disk: bf16 or f32.", DefaultValueFactory = _ => "bf16" };
        var threads = new Option<int>("--threads") { Description = "CPU threads for TorchSharp (0: its default).", DefaultValueFactory = _ => 0 };
        var command = new Command("train", "Train a small MoE from scratch on text files (CPU, autograd) and save it in the Hugging Face layout.")
        {
            arch, preset, corpus, output, steps, minutes, seed, valFraction, lr, batch, seqLen, vocab, hidden, layers, experts, expertSize, warmup, evalEvery, auxCoef, dtype, threads,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var archName = parse.GetValue(arch)!;
            if (!ModelConfig.SupportedModelTypes.TryGetValue(archName, out var family) || family == ModelFamily.Qwen2Moe)
            {
                return Task.FromResult(EngineCommandOptions.Usage($"--arch: \"{archName}\" cannot be trained; expected qwen3_moe or mixtral"));
            }

            var presetName = parse.GetValue(preset)!;
            if (!ModelPresets.TryParsePreset(presetName, out var presetValue))
            {
                return Task.FromResult(EngineCommandOptions.Usage($"--preset: unknown preset \"{presetName}\"; expected one of {string.Join(", ", ModelPresets.PresetNames)}"));
            }

            var files = parse.GetValue(corpus) ?? [];
            if (files.FirstOrDefault(f => !File.Exists(f)) is { } missing)
            {
                return Task.FromResult(EngineCommandOptions.Usage($"--corpus: file \"{missing}\" not found"));
            }

            var dtypeName = parse.GetValue(dtype)!;
            var safetensorsDtype = ModelCommands.SafetensorsDtype(dtypeName);
            if (safetensorsDtype is null)
            {
                return Task.FromResult(EngineCommandOptions.Usage($"--dtype: unknown dtype \"{dtypeName}\"; expected bf16 or f32"));
            }

            var dir = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(dir) || File.Exists(dir))
            {
                return Task.FromResult(EngineCommandOptions.Usage($"--out: \"{dir}\" is not a folder path"));
            }

            var budget = parse.GetValue(minutes);
            if (budget is { } m && (m <= 0 || !double.IsFinite(m)))
            {
                return Task.FromResult(EngineCommandOptions.Usage($"--minutes: must be a positive number (got {m.ToString(CultureInfo.InvariantCulture)})"));
            }

            var options = new TrainingOptions
            {
                Family = family,
                Preset = presetValue,
                VocabSize = parse.GetValue(vocab),
                HiddenSize = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                Experts = parse.GetValue(experts),
                ExpertIntermediateSize = parse.GetValue(expertSize),
                Documents = files.Select(File.ReadAllText).ToArray(),
                Steps = parse.GetValue(steps) ?? (budget is null ? 1000 : null),
                Duration = budget is { } minutesValue ? TimeSpan.FromMinutes(minutesValue) : null,
                Seed = parse.GetValue(seed),
                LearningRate = parse.GetValue(lr),
                Batch = parse.GetValue(batch),
                SeqLen = parse.GetValue(seqLen),
                ValidationFraction = parse.GetValue(valFraction),
                WarmupSteps = parse.GetValue(warmup),
                EvalEvery = parse.GetValue(evalEvery),
                RouterAuxLossCoefficient = parse.GetValue(auxCoef),
                Dtype = safetensorsDtype,
                Threads = parse.GetValue(threads),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e) when (e.ParamName is not null)
            {
                return Task.FromResult(EngineCommandOptions.Usage($"{ArgumentOf(e.ParamName)}: {Reason(e)}"));
            }

            return Task.Run(() => Run(options, dir, cancellationToken), cancellationToken);
        });
        return command;
    }

    /// <summary>The CLI argument behind a <see cref="TrainingOptions"/> setting.</summary>
    internal static string ArgumentOf(string setting) => setting switch
    {
        nameof(TrainingOptions.Family) => "--arch",
        nameof(TrainingOptions.Documents) => "--corpus",
        nameof(TrainingOptions.Steps) => "--steps",
        nameof(TrainingOptions.Duration) => "--minutes",
        nameof(TrainingOptions.VocabSize) => "--vocab-size",
        nameof(TrainingOptions.HiddenSize) => "--hidden-size",
        nameof(TrainingOptions.Layers) => "--layers",
        nameof(TrainingOptions.Experts) => "--experts",
        nameof(TrainingOptions.ExpertIntermediateSize) => "--expert-size",
        nameof(TrainingOptions.LearningRate) => "--lr",
        nameof(TrainingOptions.Batch) => "--batch",
        nameof(TrainingOptions.SeqLen) => "--seq-len",
        nameof(TrainingOptions.ValidationFraction) => "--val-fraction",
        nameof(TrainingOptions.WarmupSteps) => "--warmup",
        nameof(TrainingOptions.EvalEvery) => "--eval-every",
        nameof(TrainingOptions.RouterAuxLossCoefficient) => "--router-aux-coef",
        nameof(TrainingOptions.Dtype) => "--dtype",
        nameof(TrainingOptions.Threads) => "--threads",
        _ => setting,
    };

    private static string Reason(ArgumentException e)
    {
        var message = e.Message.Split(" (Parameter", 2)[0];
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon >= 0 ? message[(colon + 2)..] : message;
    }

    private static int Run(TrainingOptions options, string dir, CancellationToken cancellationToken)
    {
        var config = MoeTrainer.ConfigFor(options);
        var (total, active) = Model.CheckpointSchema.ParameterCounts(config);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training {config.ModelType} ({options.Preset.ToString().ToLowerInvariant()}: {total:N0} parameters, {active:N0} active per token) on {options.Documents.Sum(d => (long)d.Length):N0} characters"));
        TrainingResult result;
        try
        {
            result = MoeTrainer.Train(options, dir, p => Console.WriteLine(Describe(p)), cancellationToken: cancellationToken);
        }
        catch (ArgumentException e) when (e.ParamName is not null && e.Message.StartsWith("TrainingOptions.", StringComparison.Ordinal))
        {
            return EngineCommandOptions.Usage($"--corpus: {Reason(e)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return EngineCommandOptions.Fail($"--out: cannot write the checkpoint to \"{dir}\": {e.Message}");
        }

        var summary = new JsonObject
        {
            ["out"] = Path.GetFullPath(dir),
            ["model_type"] = result.Config.ModelType,
            ["parameters"] = total,
            ["active_parameters_per_token"] = active,
            ["steps"] = result.Steps,
            ["tokens_seen"] = result.TokensSeen,
            ["train_tokens"] = result.TrainTokens,
            ["validation_tokens"] = result.ValidationTokens,
            ["initial_validation_perplexity"] = Math.Round(result.InitialValidationPerplexity, 3),
            ["validation_perplexity"] = Math.Round(result.ValidationPerplexity, 3),
            ["final_loss"] = Math.Round(result.FinalLoss, 4),
            ["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 1),
        };
        Console.WriteLine(summary.ToJsonString(Indented));
        return 0;
    }

    private static string Describe(TrainingProgress p)
    {
        var steps = p.TotalSteps is { } total ? FormattableString.Invariant($"{p.Step}/{total}") : p.Step.ToString(CultureInfo.InvariantCulture);
        var validation = p.ValidationPerplexity is { } v ? FormattableString.Invariant($"  val ppl {v:F2}") : "";
        return FormattableString.Invariant(
            $"step {steps,10}  loss {p.Loss,7:F4}  router {p.RouterBalance,5:F3}  lr {p.LearningRate:E2}  {p.TokensPerSecond,6:F0} tok/s  {p.TokensSeen,11:N0} tokens  elapsed {p.Elapsed:hh\\:mm\\:ss}  left {p.Remaining:hh\\:mm\\:ss}{validation}");
    }
}
