namespace MoeDapr.Engine.Training;

/// <summary>One progress report of a training run.</summary>
/// <param name="Loss">Cross-entropy of this step's batch (nats per token, router loss excluded).</param>
/// <param name="RouterBalance">The load-balancing loss divided by top-k: 1 when routing is even, up to experts/k when collapsed.</param>
/// <param name="ValidationPerplexity">Measured at this step, else null.</param>
/// <param name="Remaining">Estimated time left (by the step budget or the time budget, whichever ends first).</param>
public sealed record TrainingProgress(
    int Step,
    int? TotalSteps,
    double Loss,
    double RouterBalance,
    double? ValidationPerplexity,
    double LearningRate,
    double TokensPerSecond,
    long TokensSeen,
    TimeSpan Elapsed,
    TimeSpan Remaining);
