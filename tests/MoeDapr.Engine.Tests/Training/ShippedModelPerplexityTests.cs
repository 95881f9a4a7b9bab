using MoeDapr.Engine.Checkpoint;
using MoeDapr.Engine.Training;

namespace MoeDapr.Engine.Tests.Training;

/// <summary>
/// The perplexity gate: each accuracy-trading engine setting is scored against the fp32 baseline on the trained demo
/// model, so a change that costs accuracy fails here instead of showing only in figures.
/// </summary>
public sealed class ShippedModelPerplexityTests
{
    // Genesis 1:1-5 (King James Version, public domain): text of the kind the model learned.
    private const string Text =
        "In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was " +
        "upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there be light: " +
        "and there was light. And God saw the light, that it was good: and God divided the light from the darkness.";

    // Measured: fp32 37.444 and bf16 37.465 on this text (0.06 %), 39.61 and 39.63 on a 425-token passage with
    // `moedapr eval perplexity`; 1 % leaves room for rounding on other CPUs and still flags a real loss.
    private const double Bf16Tolerance = 0.01;

    [Fact]
    public async Task Perplexity_Bfloat16Compute_WithinToleranceOfFloat32()
    {
        var fp32 = await PerplexityAsync("float32");
        var bf16 = await PerplexityAsync("bfloat16");

        // The model has learned the text: far below a uniform guess over its vocabulary.
        Assert.True(fp32.Perplexity < 200, $"fp32 perplexity {fp32.Perplexity:F2}");
        Assert.True(Math.Abs(bf16.Perplexity / fp32.Perplexity - 1) < Bf16Tolerance,
            $"bf16 perplexity {bf16.Perplexity:F3} vs fp32 {fp32.Perplexity:F3}");
    }

    private static async Task<PerplexityResult> PerplexityAsync(string dtype)
    {
        using var checkpoint = CheckpointLoader.Open(ShippedModelFolder());
        await using var engine = await InferenceEngine.CreateAsync(
            new EngineOptions { Threads = 1, Dtype = dtype, KvCacheBytes = 16 << 20 }, checkpoint.Config, checkpoint.Weights);
        var tokens = checkpoint.Tokenizer.Encode(Text);
        return await PerplexityEvaluator.EvaluateAsync(engine, tokens, window: 128);
    }

    private static string ShippedModelFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var model = Path.Combine(dir.FullName, "models", "kjv-qwen3_moe");
            if (File.Exists(Path.Combine(dir.FullName, "MoeDapr.sln")) && Directory.Exists(model))
            {
                return model;
            }
        }

        throw new DirectoryNotFoundException("models/kjv-qwen3_moe not found above the test's folder");
    }
}
