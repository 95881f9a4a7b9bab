using Microsoft.Extensions.Options;
using MoeDapr.Contracts;

namespace MoeDapr.Decode;

/// <summary>Settings of the decode worker: the shared ones (<see cref="EngineWorkerOptions"/>) and its own <c>Worker</c> settings.</summary>
public sealed class DecodeOptions() : EngineWorkerOptions(AppIds.Decode)
{
    /// <summary><c>Worker:ExpertLogInterval</c>: how often the "Expert usage" line is logged; zero turns it off.</summary>
    public TimeSpan ExpertLogInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary><c>Worker:CompletionQueue</c>: completion records waiting to be published; the oldest are dropped beyond it.</summary>
    public int CompletionQueue { get; set; } = 1024;
}

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
