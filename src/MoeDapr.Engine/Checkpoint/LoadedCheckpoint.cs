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
