namespace MoeDapr.Model;

/// <summary>
/// Everything about a Hugging Face model folder except its weights: config, generation settings, tokenizer
/// and chat template. Needs no TorchSharp, so the router can load it.
/// </summary>
public sealed class ModelFolder
{
    private ModelFolder(string directory, ModelConfig config, GenerationConfig generation)
    {
        Directory = directory;
        Config = config;
        Generation = generation;
    }

    public string Directory { get; }

    public ModelConfig Config { get; }

    /// <summary>
    /// Generation settings with BOS/EOS resolved: <c>generation_config.json</c> first, then
    /// <c>tokenizer_config.json</c>, then <c>config.json</c>.
    /// </summary>
    public GenerationConfig Generation { get; }

    /// <summary>Token ids that end generation (never empty when the checkpoint names any EOS).</summary>
    public IReadOnlyList<int> EosTokenIds => Generation.EosTokenIds;

    /// <summary>Reads the folder's config and generation settings.</summary>
    public static ModelFolder Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelFormatException($"{directory}: model folder not found");
        }

        var config = ModelConfig.Load(directory);
        var fromFile = GenerationConfig.Load(directory);
        var generation = (fromFile ?? new GenerationConfig()) with
        {
            BosTokenId = fromFile?.BosTokenId ?? config.BosTokenId,
            EosTokenIds = fromFile is { EosTokenIds.Count: > 0 } ? fromFile.EosTokenIds : config.EosTokenIds,
        };
        return new ModelFolder(directory, config, generation);
    }
}
