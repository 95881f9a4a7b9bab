namespace MoeDapr.Engine.Scheduling;

/// <summary>
/// Alternates prefill and decode steps while both have work, so new prompts start soon and running streams never
/// wait more than one prefill step for their next token.
/// </summary>
public sealed class AlternateStepPolicy : IStepPolicy
{
    public string Name => StepPolicies.Alternate;

    public StepKind Next(int prefilling, int decoding, StepKind? last) =>
        prefilling > 0 && (decoding == 0 || last != StepKind.Prefill) ? StepKind.Prefill : StepKind.Decode;
}
