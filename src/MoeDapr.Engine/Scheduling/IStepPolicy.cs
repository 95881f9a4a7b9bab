namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// Chooses the kind of the next step when sequences wait in both phases (the trade between time to first token and
/// the pace of running streams). Picked by <see cref="EngineOptions.StepPolicy"/>; see <see cref="StepPolicies"/>.
/// </summary>
public interface IStepPolicy
{
    string Name { get; }

    /// <summary>The next step's kind, given how many running sequences still prefill and decode and what the last step was.</summary>
    StepKind Next(int prefilling, int decoding, StepKind? last);
}
