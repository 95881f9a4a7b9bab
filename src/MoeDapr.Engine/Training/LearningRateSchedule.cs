namespace MoeDapr.Engine.Training;

/// <summary>Linear warm-up to the peak rate, then cosine decay to <c>MinRatio</c> of it over the run's progress.</summary>
public sealed record LearningRateSchedule(double PeakRate, int WarmupSteps, double MinRatio = 0.1)
{
    /// <param name="step">Steps done so far (0 for the first step).</param>
    /// <param name="progress">Fraction of the run done, 0 to 1 (by steps, or by time when the run has a time budget).</param>
    public double RateAt(int step, double progress)
    {
        if (step < WarmupSteps)
        {
            return PeakRate * (step + 1) / WarmupSteps;
        }

        var p = Math.Clamp(progress, 0, 1);
        var cosine = 0.5 * (1 + Math.Cos(Math.PI * p));
        return PeakRate * (MinRatio + ((1 - MinRatio) * cosine));
    }
}
