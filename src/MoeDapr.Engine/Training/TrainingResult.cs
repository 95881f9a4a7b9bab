using MoeDapr.Model;

namespace MoeDapr.Engine.Training;

/// <summary>What a finished training run produced and measured.</summary>
public sealed record TrainingResult(
    ModelConfig Config,
    int Steps,
    long TokensSeen,
    int TrainTokens,
    int ValidationTokens,
    double InitialValidationPerplexity,
    double ValidationPerplexity,
    double FinalLoss,
    TimeSpan Elapsed,
    IReadOnlyList<string> Files);
