using Microsoft.Extensions.Options;
using MoeDapr.Contracts;

namespace MoeDapr.Prefill;

/// <summary>Settings of the prefill worker: the shared ones (<see cref="EngineWorkerOptions"/>) and its own <c>Worker</c> settings.</summary>
public sealed class PrefillOptions() : EngineWorkerOptions(AppIds.Prefill)
{
    /// <summary><c>Worker:MaxBatchSequences</c>: sequences accepted in one batch.</summary>
    public int MaxBatchSequences { get; set; } = 64;
}

/// <summary>Checks <see cref="PrefillOptions"/> at start; each message names the setting to fix.</summary>
public sealed class PrefillOptionsValidator : IValidateOptions<PrefillOptions>
{
    public ValidateOptionsResult Validate(string? name, PrefillOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.SharedErrors();
        if (options.MaxBatchSequences < 1)
        {
            errors.Add($"Worker:MaxBatchSequences must be at least 1 (got {options.MaxBatchSequences}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
