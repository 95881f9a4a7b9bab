using Microsoft.Extensions.Options;
using MoeDapr.Contracts;

namespace MoeDapr.Prefill;

/// <summary>Settings of the prefill worker: the shared ones (<see cref="EngineWorkerOptions"/>) and its own <c>Worker</c> settings.</summary>
public sealed class PrefillOptions() : EngineWorkerOptions(AppIds.Prefill)
{
    /// <summary><c>Worker:MaxBatchSequences</c>: sequences accepted in one batch.</summary>
    public int MaxBatchSequences { get; set; } = 64;
}
