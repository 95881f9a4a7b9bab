using MoeDapr.Model;

namespace MoeDapr.Engine.Training;

/// <summary>What <see cref="MoeTrainer"/> trains, on what, and for how long.</summary>
public sealed record TrainingOptions
{
    public required ModelFamily Family { get; init; }

    public ModelPreset Preset { get; init; } = ModelPreset.Demo;

    /// <summary>Vocabulary size of the trained tokenizer and model; null keeps the preset's.</summary>
    public int? VocabSize { get; init; }

    /// <summary>Hidden size instead of the preset's (attention heads follow it at the preset's head size); null keeps the preset's.</summary>
    public int? HiddenSize { get; init; }

    /// <summary>Decoder layers; null keeps the preset's.</summary>
    public int? Layers { get; init; }

    /// <summary>Routed experts per layer; null keeps the preset's.</summary>
    public int? Experts { get; init; }

    /// <summary>Intermediate size of one expert; null keeps the preset's.</summary>
    public int? ExpertIntermediateSize { get; init; }

    /// <summary>The corpus, one document per entry (documents are separated by the family's end-of-text / BOS token).</summary>
    public required IReadOnlyList<string> Documents { get; init; }

    /// <summary>Optimizer steps; null runs until <see cref="Duration"/> is spent.</summary>
    public int? Steps { get; init; }

    /// <summary>Wall-clock budget; the cosine schedule then follows elapsed time. Null trains for <see cref="Steps"/>.</summary>
    public TimeSpan? Duration { get; init; }

    public long Seed { get; init; } = 1234;

    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Sequences per step.</summary>
    public int Batch { get; init; } = 8;

    /// <summary>Tokens per training sequence.</summary>
    public int SeqLen { get; init; } = 256;

    public double ValidationFraction { get; init; } = 0.02;

    public int WarmupSteps { get; init; } = 50;

    public double WeightDecay { get; init; } = 0.1;

    /// <summary>Gradients are scaled down when their global L2 norm exceeds this.</summary>
    public double GradientClip { get; init; } = 1.0;

    /// <summary>Weight of the router load-balancing loss (transformers' <c>router_aux_loss_coef</c>).</summary>
    public double RouterAuxLossCoefficient { get; init; } = 0.01;

    /// <summary>Validation perplexity is measured every this many steps (and after the last).</summary>
    public int EvalEvery { get; init; } = 100;

    /// <summary>Validation windows of <see cref="SeqLen"/> tokens measured each time.</summary>
    public int EvalWindows { get; init; } = 32;

    /// <summary>Safetensors dtype of the saved weights: "F32", "F16" or "BF16".</summary>
    public string Dtype { get; init; } = "BF16";

    /// <summary>TorchSharp intra-op threads; 0 leaves the default.</summary>
    public int Threads { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Require(bool ok, string setting, string message)
        {
            if (!ok)
            {
                throw new ArgumentException($"TrainingOptions.{setting}: {message}", setting);
            }
        }

        Require(Family != ModelFamily.Qwen2Moe, nameof(Family), "qwen2_moe (shared experts) is not trainable; use qwen3_moe or mixtral");
        Require(Documents.Count > 0 && Documents.Any(d => d.Length > 0), nameof(Documents), "the corpus is empty");
        Require(Steps is null or > 0, nameof(Steps), "must be positive");
        Require(Duration is null || Duration > TimeSpan.Zero, nameof(Duration), "must be positive");
        Require(VocabSize is null or >= 512, nameof(VocabSize), "must be at least 512");
        Require(HiddenSize is null or (>= 16 and <= 8192), nameof(HiddenSize), "must be between 16 and 8192");
        Require(Layers is null or (> 0 and <= 64), nameof(Layers), "must be between 1 and 64");
        Require(Experts is null or (>= 2 and <= 256), nameof(Experts), "must be between 2 and 256");
        Require(ExpertIntermediateSize is null or (> 0 and <= 32768), nameof(ExpertIntermediateSize), "must be between 1 and 32768");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), "must be a positive number");
        Require(Batch > 0, nameof(Batch), "must be positive");
        Require(SeqLen is >= 8 and <= 8192, nameof(SeqLen), "must be between 8 and 8192");
        Require(ValidationFraction is > 0 and < 0.5, nameof(ValidationFraction), "must be above 0 and below 0.5");
        Require(WarmupSteps >= 0, nameof(WarmupSteps), "must not be negative");
        Require(WeightDecay >= 0, nameof(WeightDecay), "must not be negative");
        Require(GradientClip > 0, nameof(GradientClip), "must be positive");
        Require(RouterAuxLossCoefficient >= 0, nameof(RouterAuxLossCoefficient), "must not be negative");
        Require(EvalEvery > 0, nameof(EvalEvery), "must be positive");
        Require(EvalWindows > 0, nameof(EvalWindows), "must be positive");
        Require(Dtype is "F32" or "F16" or "BF16", nameof(Dtype), "must be F32, F16 or BF16");
        Require(Threads >= 0, nameof(Threads), "must not be negative");
    }
}
