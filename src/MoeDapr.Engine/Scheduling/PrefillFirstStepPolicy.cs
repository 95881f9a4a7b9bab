namespace MoeDapr.Engine.Scheduling;

/// <summary>Prefills whenever a prompt waits (lowest time to first token; running streams pause meanwhile).</summary>
public sealed class PrefillFirstStepPolicy : IStepPolicy
{
    public string Name => StepPolicies.PrefillFirst;

    public StepKind Next(int prefilling, int decoding, StepKind? last) => prefilling > 0 ? StepKind.Prefill : StepKind.Decode;
}
