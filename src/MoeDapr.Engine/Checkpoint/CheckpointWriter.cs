using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MoeDapr.Model;
using MoeDapr.Model.Tokenization;
using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>Writes checkpoints in exactly the Hugging Face layout: config.json, safetensors (sharded with an index when large), tokenizer and generation files.</summary>
public static class CheckpointWriter
{
    /// <summary>2 GiB: small enough for any filesystem and for the 2 GiB span limit of tools that read files whole.</summary>
    public const long DefaultMaxShardBytes = 2L << 30;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The torch_dtype name config.json uses for a safetensors dtype.</summary>
    public static string TorchDtypeName(string safetensorsDtype) => safetensorsDtype switch
    {
        "F32" => "float32",
        "F16" => "float16",
        "BF16" => "bfloat16",
        _ => throw new ArgumentException($"unsupported dtype \"{safetensorsDtype}\"; use F32, F16 or BF16", nameof(safetensorsDtype)),
    };

    /// <summary>
    /// Writes <paramref name="entries"/> as <c>model.safetensors</c>, or as <c>model-0000i-of-0000n.safetensors</c>
    /// shards plus <c>model.safetensors.index.json</c> when they exceed <paramref name="maxShardBytes"/>.
    /// Weight files already in the folder are removed first. Returns the paths written.
    /// </summary>
    public static IReadOnlyList<string> WriteWeights(string dir, IReadOnlyList<SafetensorsWriteEntry> entries, long maxShardBytes = DefaultMaxShardBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        Directory.CreateDirectory(dir);
        RemoveWeightFiles(dir);

        var shards = new List<List<SafetensorsWriteEntry>> { new() };
        long current = 0;
        foreach (var entry in entries)
        {
            if (current > 0 && current + entry.ByteLength > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }

            shards[^1].Add(entry);
            current += entry.ByteLength;
        }

        if (shards.Count == 1)
        {
            var path = Path.Combine(dir, SafetensorsWeightSource.SingleFileName);
            SafetensorsWriter.Write(path, shards[0]);
            return [path];
        }

        var written = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors");
            var path = Path.Combine(dir, name);
            SafetensorsWriter.Write(path, shards[i]);
            written.Add(path);
            foreach (var entry in shards[i])
            {
                weightMap[entry.Name] = name;
            }
        }

        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = entries.Sum(e => e.ByteLength) },
            ["weight_map"] = new JsonObject(weightMap.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        };
        var indexPath = Path.Combine(dir, SafetensorsWeightSource.IndexFileName);
        WriteJson(indexPath, index);
        written.Add(indexPath);
        return written;
    }

    /// <summary>Writes every tensor of <paramref name="config"/>'s schema from <paramref name="tensors"/>, converted to <paramref name="dtype"/>.</summary>
    public static IReadOnlyList<string> WriteWeights(string dir, ModelConfig config, IReadOnlyDictionary<string, torch.Tensor> tensors,
        string dtype = "F32", long maxShardBytes = DefaultMaxShardBytes)
    {
        var entries = CheckpointSchema.ExpectedTensors(config)
            .Select(spec => tensors.TryGetValue(spec.Name, out var tensor)
                ? SafetensorsWriteEntry.FromTensor(spec.Name, tensor, dtype)
                : throw new ArgumentException($"no tensor for {spec.Name}", nameof(tensors)))
            .ToArray();
        return WriteWeights(dir, entries, maxShardBytes);
    }

    /// <summary>Writes <c>config.json</c>.</summary>
    public static void WriteConfig(string dir, ModelConfig config)
    {
        Directory.CreateDirectory(dir);
        var json = config.ToJson();
        json["initializer_range"] = 0.02;
        WriteJson(Path.Combine(dir, "config.json"), json);
    }

    /// <summary>Writes <c>generation_config.json</c>.</summary>
    public static void WriteGenerationConfig(string dir, GenerationConfig generation) =>
        WriteJson(Path.Combine(dir, GenerationConfig.FileName), generation.ToJson());

    /// <summary>Writes <c>tokenizer.json</c> and <c>tokenizer_config.json</c>.</summary>
    public static void WriteTokenizer(string dir, TokenizerFiles files)
    {
        Directory.CreateDirectory(dir);
        // tokenizer.json holds the whole vocabulary; written compact, as the tokenizers library does.
        File.WriteAllText(Path.Combine(dir, HuggingFaceTokenizer.FileName), files.TokenizerJson.ToJsonString(Compact));
        WriteJson(Path.Combine(dir, TokenizerFiles.TokenizerConfigFileName), files.TokenizerConfig);
    }

    /// <summary>
    /// Writes a complete random checkpoint folder: config, weights from <see cref="RandomWeights"/>, a tokenizer
    /// trained to the config's vocabulary size, and tokenizer/generation configs. Returns the config written.
    /// </summary>
    public static ModelConfig WriteRandom(string dir, RandomCheckpointOptions options, CancellationToken cancellationToken = default)
    {
        var config = ModelPresets.Create(options.Family, options.Preset, TorchDtypeName(options.Dtype));
        Directory.CreateDirectory(dir);
        WriteConfig(dir, config);
        WriteGenerationConfig(dir, DefaultGenerationConfig(config));
        WriteTokenizer(dir, GeneratedTokenizer.Create(config, cancellationToken));

        cancellationToken.ThrowIfCancellationRequested();
        var tensors = RandomWeights.Create(config, new RandomWeightOptions { Seed = options.Seed, RouterSkew = options.RouterSkew });
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteWeights(dir, config, tensors, options.Dtype, options.MaxShardBytes);
        }
        finally
        {
            foreach (var tensor in tensors.Values)
            {
                tensor.Dispose();
            }
        }

        return config;
    }

    /// <summary>The generation config a family's chat checkpoints ship: Qwen stops on &lt;|im_end|&gt; and &lt;|endoftext|&gt;.</summary>
    public static GenerationConfig DefaultGenerationConfig(ModelConfig config) => config.Family == ModelFamily.Mixtral
        ? new GenerationConfig { BosTokenId = config.BosTokenId, EosTokenIds = config.EosTokenIds }
        : new GenerationConfig
        {
            BosTokenId = config.BosTokenId,
            // <|im_end|> is the last id, <|endoftext|> two before it (see the generated tokenizer).
            EosTokenIds = [config.VocabSize - 1, config.VocabSize - 3],
            PadTokenId = config.VocabSize - 3,
        };

    internal static void WriteJson(string path, JsonNode node) =>
        File.WriteAllText(path, node.ToJsonString(Indented) + "\n");

    private static void RemoveWeightFiles(string dir)
    {
        foreach (var path in Directory.EnumerateFiles(dir, "*.safetensors").Append(Path.Combine(dir, SafetensorsWeightSource.IndexFileName)))
        {
            var name = Path.GetFileName(path);
            if (name == SafetensorsWeightSource.SingleFileName || name == SafetensorsWeightSource.IndexFileName
                || (name.StartsWith("model-", StringComparison.Ordinal) && name.Contains("-of-", StringComparison.Ordinal)))
            {
                File.Delete(path);
            }
        }
    }
}
