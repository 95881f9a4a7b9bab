namespace MoeDapr.Engine.Scheduling;

/// <summary>What one engine step computes: prompt chunks of sequences still prefilling, or one token of each decoding sequence.</summary>
public enum StepKind
{
    Prefill,
    Decode,
}
