using MoeDapr.Engine.Sampling;

namespace MoeDapr.Engine.Scheduling;

/// <summary>What <see cref="ModelRunner.Execute"/> returns for a <see cref="StepPlan"/>: per chunk, the token sampled after it (null for a chunk that ends mid-prompt).</summary>
internal sealed record StepOutputs(IReadOnlyList<SampledToken?> Samples);
