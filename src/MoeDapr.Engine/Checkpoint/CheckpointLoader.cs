using MoeDapr.Model;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Engine.Checkpoint;

/// <summary>An opened model folder: its config, tokenizer and generation settings, and its validated weights.</summary>
public sealed class LoadedCheckpoint : IDisposable
{
    internal LoadedCheckpoint(ModelFolder folder, SafetensorsWeightSource weights)
    {
        Folder = folder;
        Weights = weights;
    }

    public ModelFolder Folder { get; }

    public ModelConfig Config => Folder.Config;

    public GenerationConfig Generation => Folder.Generation;

    /// <summary>The folder's tokenizer; throws <see cref="ModelFormatException"/> when it has no tokenizer.json.</summary>
    public HuggingFaceTokenizer Tokenizer => Folder.Tokenizer;

    /// <summary>The chat template of the model's family.</summary>
    public IChatTemplate ChatTemplate => Folder.ChatTemplate;

    /// <summary>The memory-mapped weights, already checked against <see cref="CheckpointSchema.ExpectedTensors"/>.</summary>
    public SafetensorsWeightSource Weights { get; }

    public void Dispose() => Weights.Dispose();
}

/// <summary>Opens Hugging Face checkpoint folders (config.json, safetensors, tokenizer and generation files).</summary>
public static class CheckpointLoader
{
    /// <summary>
    /// Opens <paramref name="modelDir"/> and validates it completely: every defect is a
    /// <see cref="ModelFormatException"/> naming the file and tensor, raised here rather than while serving.
    /// </summary>
    public static LoadedCheckpoint Open(string modelDir)
    {
        var folder = ModelFolder.Load(modelDir);
        var weights = SafetensorsWeightSource.Open(modelDir, folder.Config);
        return new LoadedCheckpoint(folder, weights);
    }
}
