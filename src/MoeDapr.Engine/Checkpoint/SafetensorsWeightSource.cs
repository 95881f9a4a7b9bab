using System.Text.Json;
using MoeDapr.Model;
using TorchSharp;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>
/// Weights read from <c>model.safetensors</c> or the shards of <c>model.safetensors.index.json</c>, memory-mapped.
/// Opening validates every file and every tensor against <see cref="CheckpointSchema"/>, so a defective
/// checkpoint fails at load, never while serving.
/// </summary>
public sealed class SafetensorsWeightSource : IWeightSource
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafetensorsFile> _fileOf;
    private readonly List<SafetensorsFile> _files;

    private SafetensorsWeightSource(List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileOf)
    {
        _files = files;
        _fileOf = fileOf;
    }

    public IReadOnlyCollection<string> Names => _fileOf.Keys;

    /// <summary>The mapped files, in shard order.</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Total bytes of tensor data over all files.</summary>
    public long TotalTensorBytes => _files.Sum(f => f.Header.Entries.Values.Sum(e => e.ByteLength));

    /// <summary>The safetensors dtypes present (e.g. "BF16").</summary>
    public IReadOnlyCollection<string> Dtypes => _files.SelectMany(f => f.Header.Entries.Values.Select(e => e.Dtype)).Distinct().Order().ToArray();

    /// <summary>
    /// Opens the weights in <paramref name="modelDir"/> (<c>model.safetensors</c> first, as transformers does,
    /// else the index) and checks them against <paramref name="config"/>.
    /// </summary>
    public static SafetensorsWeightSource Open(string modelDir, ModelConfig config)
    {
        var source = OpenUnchecked(modelDir);
        try
        {
            source.Validate(config);
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Opens and validates the files (headers, layout, index) without checking tensors against a config.</summary>
    public static SafetensorsWeightSource OpenUnchecked(string modelDir)
    {
        var single = Path.Combine(modelDir, SingleFileName);
        var index = Path.Combine(modelDir, IndexFileName);
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            return new SafetensorsWeightSource([file], file.Header.Entries.Keys.ToDictionary(n => n, _ => file, StringComparer.Ordinal));
        }

        if (File.Exists(index))
        {
            return OpenSharded(index);
        }

        throw new ModelFormatException($"{modelDir}: no {SingleFileName} or {IndexFileName} (MoeDapr reads safetensors checkpoints only)");
    }

    private static SafetensorsWeightSource OpenSharded(string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var dir = Path.GetDirectoryName(indexPath)!;
        var files = new List<SafetensorsFile>();
        var fileOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var shard in weightMap.Values.Distinct().Order(StringComparer.Ordinal))
            {
                var shardPath = Path.Combine(dir, shard);
                if (!File.Exists(shardPath))
                {
                    var tensor = weightMap.First(kv => kv.Value == shard).Key;
                    throw new ModelFormatException($"{indexPath}: shard {shard} (holding tensor {tensor}) not found in {dir}");
                }

                files.Add(SafetensorsFile.Open(shardPath));
            }

            var byName = files.ToDictionary(f => System.IO.Path.GetFileName(f.Path), StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
            {
                var file = byName[shard];
                if (!file.Header.Entries.ContainsKey(tensor))
                {
                    throw new ModelFormatException($"{indexPath}: tensor {tensor} is mapped to {shard}, but {file.Path} does not hold it");
                }

                fileOf[tensor] = file;
            }

            foreach (var file in files)
            {
                foreach (var tensor in file.Header.Entries.Keys)
                {
                    if (!weightMap.TryGetValue(tensor, out var shard))
                    {
                        throw new ModelFormatException($"{file.Path}: tensor {tensor} is not listed in {indexPath}");
                    }

                    if (shard != System.IO.Path.GetFileName(file.Path))
                    {
                        throw new ModelFormatException($"{file.Path}: tensor {tensor} is also held by this file, but {indexPath} maps it to {shard}");
                    }
                }
            }

            return new SafetensorsWeightSource(files, fileOf);
        }
        catch
        {
            foreach (var file in files)
            {
                file.Dispose();
            }

            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{indexPath}: invalid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException($"{indexPath}: missing \"weight_map\" object");
            }

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                if (shard.Length == 0 || shard != System.IO.Path.GetFileName(shard))
                {
                    throw new ModelFormatException($"{indexPath}: tensor {entry.Name} must map to a file name in the model folder (got {entry.Value.GetRawText()})");
                }

                weightMap[entry.Name] = shard;
            }

            if (weightMap.Count == 0)
            {
                throw new ModelFormatException($"{indexPath}: \"weight_map\" is empty");
            }

            return weightMap;
        }
    }

    /// <summary>
    /// Checks that the files hold exactly the tensors of <paramref name="config"/>, with the right shapes and
    /// loadable dtypes. Buffers transformers never loads (<c>rotary_emb.inv_freq</c>) are tolerated.
    /// </summary>
    public void Validate(ModelConfig config)
    {
        var expected = CheckpointSchema.ExpectedTensors(config);
        var expectedNames = new HashSet<string>(expected.Select(s => s.Name), StringComparer.Ordinal);
        foreach (var spec in expected)
        {
            if (!_fileOf.TryGetValue(spec.Name, out var file))
            {
                var where = _files.Count == 1 ? _files[0].Path : $"the shards of {IndexFileName}";
                throw new ModelFormatException($"{where}: missing tensor {spec.Name} (expected shape [{string.Join(", ", spec.Shape)}])");
            }

            CheckEntry(file, file.Header.Entries[spec.Name], spec);
        }

        foreach (var (name, file) in _fileOf)
        {
            if (!expectedNames.Contains(name) && !IsIgnoredBuffer(name))
            {
                throw new ModelFormatException($"{file.Path}: unexpected tensor {name}, which a {config.ModelType} model of this config does not have");
            }
        }
    }

    public torch.Tensor Load(TensorSpec spec, torch.ScalarType dtype, torch.Device device)
    {
        if (!_fileOf.TryGetValue(spec.Name, out var file))
        {
            var where = _files.Count == 1 ? _files[0].Path : $"the shards of {IndexFileName}";
            throw new ModelFormatException($"{where}: missing tensor {spec.Name}");
        }

        CheckEntry(file, file.Header.Entries[spec.Name], spec);
        return file.Load(spec.Name, dtype, device);
    }

    /// <summary>The header entry of a tensor, with the file that holds it.</summary>
    public (SafetensorsFile File, SafetensorsEntry Entry) Find(string name) =>
        _fileOf.TryGetValue(name, out var file)
            ? (file, file.Header.Entries[name])
            : throw new ModelFormatException($"missing tensor {name}");

    private static void CheckEntry(SafetensorsFile file, SafetensorsEntry entry, TensorSpec spec)
    {
        if (SafetensorsFile.TorchDtype(entry.Dtype) is null)
        {
            throw new ModelFormatException($"{file.Path}: tensor {entry.Name} has unsupported dtype \"{entry.Dtype}\" (supported: F32, F16, BF16)");
        }

        if (!entry.Shape.SequenceEqual(spec.Shape))
        {
            throw new ModelFormatException(
                $"{file.Path}: tensor {entry.Name} has shape [{string.Join(", ", entry.Shape)}], expected [{string.Join(", ", spec.Shape)}]");
        }
    }

    private static bool IsIgnoredBuffer(string name) => name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }
}
