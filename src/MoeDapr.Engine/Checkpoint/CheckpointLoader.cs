using MoeDapr.Model;

namespace MoeDapr.Engine.Checkpoint;

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
