namespace MoeDapr.Engine.Scheduling;

/// <summary>The bounds the scheduler keeps (from <see cref="EngineOptions"/> and the model's context).</summary>
/// <param name="MaxBatchSize">Most sequences running at once.</param>
/// <param name="MaxPrefillTokens">Most prompt tokens computed in one prefill step.</param>
/// <param name="MaxSequenceLength">Most tokens (prompt plus output) of one sequence.</param>
internal sealed record SchedulerLimits(int MaxBatchSize, int MaxPrefillTokens, int MaxSequenceLength);
