using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;
using MoeDapr.Model;

namespace MoeDapr.Eplb.Tests.Infrastructure;

/// <summary>The tiny Mixtral preset (2 MoE layers, 4 experts, top-2) with a skewed router, in memory or on disk.</summary>
public static class TinyMoe
{
    public const double RouterSkew = 3;

    public static ModelConfig Config { get; } = ModelPresets.Create(ModelFamily.Mixtral, ModelPreset.Tiny);

    public static EngineOptions Options(int ranks, int redundant) => new()
    {
        BlockSize = 4,
        NumBlocks = 256,
        MaxPrefillTokens = 64,
        MaxSequenceLength = 512,
        Threads = 1,
        ExpertParallelSize = ranks,
        RedundantExperts = redundant,
    };

    public static Task<InferenceEngine> EngineAsync(int ranks, int redundant) =>
        InferenceEngine.CreateAsync(Options(ranks, redundant), Config, new InMemoryWeightSource(RandomWeights.Create(Config, new RandomWeightOptions
        {
            Seed = 11,
            InitStd = 0.25, // clear winners: no near-ties in logits or routing
            RouterSkew = RouterSkew,
        })));

    /// <summary>Writes the checkpoint into a fresh temp folder and returns it.</summary>
    public static string WriteCheckpoint()
    {
        var dir = Path.Combine(Path.GetTempPath(), "moedapr-eplb-tests", Guid.NewGuid().ToString("N"), "tiny-skewed");
        CheckpointWriter.WriteRandom(dir, new RandomCheckpointOptions { Family = ModelFamily.Mixtral, Preset = ModelPreset.Tiny, Seed = 11, RouterSkew = RouterSkew });
        return dir;
    }

    public static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => ((i * 37) + (salt * 11) + 5) % Config.VocabSize).ToArray();

    public static async Task<List<TokenOutput>> GenerateAllAsync(this InferenceEngine engine, GenerateRequest request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var outputs = new List<TokenOutput>();
        await foreach (var output in engine.GenerateAsync(request, timeout.Token))
        {
            outputs.Add(output);
        }

        return outputs;
    }
}
