using Microsoft.Extensions.Options;

namespace MoeDapr.Decode;

/// <summary>Checks <see cref="DecodeOptions"/> at start; each message names the setting to fix.</summary>
public sealed class DecodeOptionsValidator : IValidateOptions<DecodeOptions>
{
    public ValidateOptionsResult Validate(string? name, DecodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.SharedErrors();
        if (options.ExpertLogInterval < TimeSpan.Zero)
        {
            errors.Add($"Worker:ExpertLogInterval must not be negative (got {options.ExpertLogInterval}).");
        }

        if (options.CompletionQueue < 1)
        {
            errors.Add($"Worker:CompletionQueue must be at least 1 (got {options.CompletionQueue}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
