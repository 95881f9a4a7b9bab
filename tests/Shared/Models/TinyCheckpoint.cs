using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.Tests.Shared;

/// <summary>A random tiny checkpoint in the Hugging Face layout, written to a temp folder that is deleted on dispose.</summary>
public sealed class TinyCheckpoint : IDisposable
{
    public TinyCheckpoint(ModelFamily family = ModelFamily.Qwen3Moe, int seed = 7)
    {
        Root = Directory.CreateTempSubdirectory("moedapr-tests-").FullName;
        Path = System.IO.Path.Combine(Root, "tiny-" + family.ToString().ToLowerInvariant());
        CheckpointWriter.WriteRandom(Path, new RandomCheckpointOptions { Family = family, Preset = ModelPreset.Tiny, Seed = seed });
        Config = ModelConfig.Load(Path);
    }

    /// <summary>The checkpoint folder (a service's <c>Model:Path</c>).</summary>
    public string Path { get; }

    /// <summary>The folder's config.json, parsed.</summary>
    public ModelConfig Config { get; }

    private string Root { get; }

    /// <summary>Prompt token ids of <paramref name="length"/> inside the vocabulary, different for each <paramref name="salt"/>.</summary>
    public int[] Prompt(int length, int salt = 0) =>
        Enumerable.Range(0, length).Select(i => ((i * 37) + (salt * 11) + 5) % Config.VocabSize).ToArray();

    /// <summary>Holds the next load of this checkpoint at its config.json until the gate is released.</summary>
    public ModelLoadGate HoldLoading() => ModelLoadGate.Close(System.IO.Path.Combine(Path, "config.json"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A mapping still closing; the temp folder is the OS's to clean.
        }
    }
}
