using MoeDapr.Engine.Training;
using MoeDapr.Model;
using MoeDapr.Model.Tokenization;
using static TorchSharp.torch;

namespace MoeDapr.Engine.Tests.Training;

/// <summary>A tiny qwen3_moe trained for a few dozen steps on the embedded English prose, saved in fp32, shared by the tests that need one.</summary>
public sealed class TrainedTinyModel : IDisposable
{
    public TrainedTinyModel()
    {
        Directory = Path.Combine(Path.GetTempPath(), "moedapr-training-tests", Guid.NewGuid().ToString("N"));
        Options = new TrainingOptions
        {
            Family = ModelFamily.Qwen3Moe,
            Preset = ModelPreset.Tiny,
            Documents = [TrainingCorpus.English],
            Steps = 40,
            Batch = 4,
            SeqLen = 32,
            WarmupSteps = 5,
            LearningRate = 3e-3,
            ValidationFraction = 0.1,
            EvalEvery = 20,
            EvalWindows = 8,
            Dtype = "F32",
            Threads = 1,
        };
        var progress = new List<TrainingProgress>();
        Result = MoeTrainer.Train(Options, Directory, progress.Add, model =>
        {
            // The trained module's own last-position logits on fixed prompts, to compare with the engine's on the saved files.
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var prompt in Prompts)
            {
                var logits = model.forward(tensor(prompt.Select(t => (long)t).ToArray()).view(1, -1)); // [1, T, vocab]
                ModuleLogits.Add(logits[0, -1].data<float>().ToArray());
            }
        });
        Progress = progress;
    }

    /// <summary>Prompts of several lengths, so RoPE positions and the causal mask are covered.</summary>
    public static IReadOnlyList<int[]> Prompts { get; } =
    [
        [17],
        Enumerable.Range(0, 9).Select(i => ((i * 41) + 3) % 500).ToArray(),
        Enumerable.Range(0, 31).Select(i => ((i * 97) + 11) % 500).ToArray(),
    ];

    public string Directory { get; }

    public TrainingOptions Options { get; }

    public TrainingResult Result { get; }

    public IReadOnlyList<TrainingProgress> Progress { get; }

    /// <summary>The trained module's logits after each of <see cref="Prompts"/>.</summary>
    public List<float[]> ModuleLogits { get; } = [];

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
