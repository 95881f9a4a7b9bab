using Microsoft.Extensions.Options;

namespace MoeDapr.Prefill;

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
