using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;
using Spectre.Console;

namespace MoeDapr.Cli.Commands;

/// <summary><c>moedapr model init | inspect | train</c>: generate, describe and train Hugging Face checkpoints.</summary>
internal static class ModelCommands
{
    private const int UsageError = 2;
    private const int Failure = 1;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var model = new Command("model", "Generate, describe and train Hugging Face MoE checkpoints.");
        model.Subcommands.Add(Init());
        model.Subcommands.Add(Inspect());
        model.Subcommands.Add(ModelTrainCommand.Create());
        return model;
    }

    private static Command Init()
    {
        var arch = new Option<string>("--arch") { Description = "Model family: mixtral, qwen2_moe or qwen3_moe.", Required = true };
        var preset = new Option<string>("--preset") { Description = "Size: tiny (tests), demo (moedapr up) or bench (engine figures).", DefaultValueFactory = _ => "tiny" };
        var output = new Option<string>("--out") { Description = "Folder to write the checkpoint into (created if missing).", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 1234 };
        var dtype = new Option<string>("--dtype") { Description = "Weight dtype on disk: f32 or bf16.", DefaultValueFactory = _ => "f32" };
        var skew = new Option<double>("--router-skew") { Description = "0 for an even router; above 0 crowds tokens onto low-numbered experts.", DefaultValueFactory = _ => 0 };
        var shardMb = new Option<long>("--max-shard-mb") { Description = "Split the weights into shards of at most this many MiB.", DefaultValueFactory = _ => CheckpointWriter.DefaultMaxShardBytes >> 20 };

        var command = new Command("init", "Write a random checkpoint in the Hugging Face layout (config, safetensors, tokenizer, generation config).")
        {
            arch, preset, output, seed, dtype, skew, shardMb,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var archName = parse.GetValue(arch)!;
            if (!ModelConfig.SupportedModelTypes.TryGetValue(archName, out var family))
            {
                return Task.FromResult(Usage($"--arch: unknown architecture \"{archName}\"; expected one of {string.Join(", ", ModelConfig.SupportedModelTypes.Keys)}"));
            }

            var presetName = parse.GetValue(preset)!;
            if (!ModelPresets.TryParsePreset(presetName, out var presetValue))
            {
                return Task.FromResult(Usage($"--preset: unknown preset \"{presetName}\"; expected one of {string.Join(", ", ModelPresets.PresetNames)}"));
            }

            var dtypeName = parse.GetValue(dtype)!;
            var safetensorsDtype = ModelCommands.SafetensorsDtype(dtypeName);
            if (safetensorsDtype is null)
            {
                return Task.FromResult(Usage($"--dtype: unknown dtype \"{dtypeName}\"; expected f32 or bf16"));
            }

            var routerSkew = parse.GetValue(skew);
            if (routerSkew < 0 || !double.IsFinite(routerSkew))
            {
                return Task.FromResult(Usage($"--router-skew: must be a finite number of at least 0 (got {routerSkew.ToString(CultureInfo.InvariantCulture)})"));
            }

            var maxShard = parse.GetValue(shardMb);
            if (maxShard <= 0)
            {
                return Task.FromResult(Usage($"--max-shard-mb: must be positive (got {maxShard})"));
            }

            var dir = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(dir))
            {
                return Task.FromResult(Usage("--out: a folder path is required"));
            }

            if (File.Exists(dir))
            {
                return Task.FromResult(Usage($"--out: \"{dir}\" is a file, not a folder"));
            }

            var options = new RandomCheckpointOptions
            {
                Family = family,
                Preset = presetValue,
                Seed = parse.GetValue(seed),
                Dtype = safetensorsDtype,
                RouterSkew = routerSkew,
                MaxShardBytes = maxShard << 20,
            };
            return Task.Run(() => RunInit(dir, options, cancellationToken), cancellationToken);
        });
        return command;
    }

    private static int RunInit(string dir, RandomCheckpointOptions options, CancellationToken cancellationToken)
    {
        ModelConfig config;
        try
        {
            config = CheckpointWriter.WriteRandom(dir, options, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: --out: cannot write the checkpoint to \"{dir}\": {e.Message}");
            return Failure;
        }

        var (total, active) = CheckpointSchema.ParameterCounts(config);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Wrote {config.ModelType} ({options.Preset.ToString().ToLowerInvariant()}, {options.Dtype}) to {Path.GetFullPath(dir)}: {total:N0} parameters, {active:N0} active per token"));
        foreach (var file in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {Path.GetFileName(file),-40} {new FileInfo(file).Length,14:N0} bytes"));
        }

        return 0;
    }

    private static Command Inspect()
    {
        var dir = new Argument<string>("dir") { Description = "Model folder (config.json and safetensors)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var command = new Command("inspect", "Describe a checkpoint: family, layers, experts, parameters (total and active per token), memory.")
        {
            dir, json,
        };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(dir)!;
            if (!Directory.Exists(path))
            {
                return Usage($"dir: model folder \"{path}\" not found");
            }

            JsonObject report;
            try
            {
                report = Describe(path);
            }
            catch (ModelFormatException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return Failure;
            }

            if (parse.GetValue(json))
            {
                Console.WriteLine(report.ToJsonString(Indented));
            }
            else
            {
                WriteTable(report);
            }

            return 0;
        });
        return command;
    }

    private static JsonObject Describe(string path)
    {
        var folder = ModelFolder.Load(path);
        var config = folder.Config;
        using var weights = SafetensorsWeightSource.Open(path, config);
        var (total, active) = CheckpointSchema.ParameterCounts(config);
        var moeLayers = config.MoeLayers.Count;
        return new JsonObject
        {
            ["path"] = Path.GetFullPath(path),
            ["family"] = config.Family.ToString(),
            ["model_type"] = config.ModelType,
            ["layers"] = config.NumLayers,
            ["moe_layers"] = moeLayers,
            ["dense_layers"] = config.NumLayers - moeLayers,
            ["hidden_size"] = config.HiddenSize,
            ["attention_heads"] = config.NumHeads,
            ["kv_heads"] = config.NumKvHeads,
            ["head_dim"] = config.HeadDim,
            ["experts"] = config.NumExperts,
            ["experts_per_token"] = config.NumExpertsPerToken,
            ["expert_intermediate_size"] = config.MoeIntermediateSize,
            ["shared_expert_intermediate_size"] = config.SharedExpertIntermediateSize,
            ["vocab_size"] = config.VocabSize,
            ["max_position_embeddings"] = config.MaxPositionEmbeddings,
            ["total_parameters"] = total,
            ["active_parameters_per_token"] = active,
            ["memory_bytes"] = new JsonObject
            {
                ["float32"] = total * 4,
                ["bfloat16"] = total * 2,
                ["float16"] = total * 2,
            },
            ["checkpoint"] = new JsonObject
            {
                ["dtypes"] = new JsonArray(weights.Dtypes.Select(d => (JsonNode)d).ToArray()),
                ["files"] = weights.Files.Count,
                ["tensors"] = weights.Names.Count,
                ["tensor_bytes"] = weights.TotalTensorBytes,
            },
            ["bos_token_id"] = folder.Generation.BosTokenId,
            ["eos_token_ids"] = new JsonArray(folder.EosTokenIds.Select(id => (JsonNode)id).ToArray()),
        };
    }

    private static void WriteTable(JsonObject report)
    {
        var table = new Table().AddColumn("property").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
        string Count(string key) => Long(report[key]).ToString("N0", CultureInfo.InvariantCulture);

        Row("model", $"{report["model_type"]} ({report["family"]})");
        Row("layers", $"{report["layers"]} ({report["moe_layers"]} MoE, {report["dense_layers"]} dense)");
        Row("hidden size", Count("hidden_size"));
        Row("attention", $"{report["attention_heads"]} query / {report["kv_heads"]} KV heads of {report["head_dim"]}");
        var shared = Long(report["shared_expert_intermediate_size"]);
        Row("experts", $"{report["experts"]} of {report["expert_intermediate_size"]}, top-{report["experts_per_token"]}"
            + (shared > 0 ? $", shared expert of {shared}" : ""));
        Row("vocabulary", Count("vocab_size"));
        Row("total parameters", Count("total_parameters"));
        Row("active parameters / token", Count("active_parameters_per_token"));
        var memory = report["memory_bytes"]!.AsObject();
        foreach (var (dtype, bytes) in memory)
        {
            Row($"memory ({dtype})", FormatBytes(Long(bytes)));
        }

        var checkpoint = report["checkpoint"]!.AsObject();
        Row("checkpoint", $"{checkpoint["files"]} file(s), {checkpoint["tensors"]} tensors, "
            + $"{string.Join("/", checkpoint["dtypes"]!.AsArray().Select(d => d!.GetValue<string>()))}, {FormatBytes(Long(checkpoint["tensor_bytes"]))}");
        AnsiConsole.Write(table);
    }

    private static long Long(JsonNode? node) => long.Parse(node!.ToJsonString(), CultureInfo.InvariantCulture);

    private static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
    };

    private static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return UsageError;
    }

    /// <summary>The safetensors dtype of a --dtype value (f32/float32, bf16/bfloat16), or null when it names neither.</summary>
    internal static string? SafetensorsDtype(string name) => name switch
    {
        "f32" or "float32" => "F32",
        "bf16" or "bfloat16" => "BF16",
        _ => null,
    };
}
