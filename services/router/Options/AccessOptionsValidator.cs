using Microsoft.Extensions.Options;

namespace MoeDapr.Router.Options;

/// <summary>Start-time checks of <see cref="AccessOptions"/> and <see cref="RequestLimitsOptions"/>; messages name the setting to fix.</summary>
public sealed class AccessOptionsValidator(IConfiguration configuration) : IValidateOptions<AccessOptions>, IValidateOptions<RequestLimitsOptions>
{
    /// <summary>Shorter keys are guessable; OpenAI's and vLLM's generated keys are far longer.</summary>
    public const int MinKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, AccessOptions options)
    {
        var errors = new List<string>();
        var s = AccessOptions.Section;
        errors.AddIf(options.AdminPort is < 0 or > 65535, $"{s}:AdminPort must be 0 (admin routes off) or a port 1..65535");
        var keys = options.ApiKeys;
        // The binder drops a list item it cannot convert (a priority of "urgent", a rate of "fast"); a dropped key would
        // leave the API open or lock its holder out, so it is an error, not a silence.
        var configured = configuration.GetSection($"{s}:{nameof(AccessOptions.ApiKeys)}").GetChildren().Count();
        errors.AddIf(configured != keys.Count,
            $"{s}:ApiKeys has {configured} entries but only {keys.Count} could be read: check each entry's Priority (high, normal, low), RequestsPerSecond and Burst");
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            var p = $"{s}:ApiKeys:{i}";
            errors.AddIf(string.IsNullOrWhiteSpace(key.Key) || key.Key.Length < MinKeyLength || key.Key.Any(char.IsWhiteSpace),
                $"{p}:Key must hold at least {MinKeyLength} characters and no white space");
            errors.AddIf(string.IsNullOrWhiteSpace(key.Name), $"{p}:Name must name the key's holder");
            errors.AddIf(!Enum.IsDefined(key.Priority), $"{p}:Priority must be high, normal or low");
            errors.AddIf(!(key.RequestsPerSecond >= 0) || double.IsInfinity(key.RequestsPerSecond), $"{p}:RequestsPerSecond must be 0 (no limit) or positive");
            errors.AddIf(key.Burst < 1, $"{p}:Burst must be at least 1");
        }

        errors.AddIf(keys.Where(k => !string.IsNullOrEmpty(k.Key)).GroupBy(k => k.Key, StringComparer.Ordinal).Any(g => g.Count() > 1),
            $"{s}:ApiKeys holds the same key twice");
        errors.AddIf(keys.Where(k => !string.IsNullOrEmpty(k.Name)).GroupBy(k => k.Name, StringComparer.Ordinal).Any(g => g.Count() > 1),
            $"{s}:ApiKeys holds the same name twice");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public ValidateOptionsResult Validate(string? name, RequestLimitsOptions options)
    {
        var errors = new List<string>();
        var s = RequestLimitsOptions.Section;
        errors.AddIf(options.MaxRequestBodyBytes < 1024, $"{s}:MaxRequestBodyBytes must be at least 1024");
        errors.AddIf(options.MaxStopStrings < 0, $"{s}:MaxStopStrings must not be negative");
        errors.AddIf(options.MaxStopStringLength < 1, $"{s}:MaxStopStringLength must be at least 1");
        errors.AddIf(options.MaxStopTokenIds < 0, $"{s}:MaxStopTokenIds must not be negative");
        errors.AddIf(options.MaxLogitBiasEntries < 0, $"{s}:MaxLogitBiasEntries must not be negative");
        errors.AddIf(!(options.MinRequestBodyBytesPerSecond >= 0) || double.IsInfinity(options.MinRequestBodyBytesPerSecond),
            $"{s}:MinRequestBodyBytesPerSecond must be 0 (off) or positive");
        errors.AddIf(options.MinRequestBodyBytesPerSecond > 0 && options.MinRequestBodyGracePeriod < TimeSpan.FromSeconds(1),
            $"{s}:MinRequestBodyGracePeriod must be at least 1 s (Kestrel's own lower bound)");
        errors.AddIf(options.RequestHeadersTimeout <= TimeSpan.Zero, $"{s}:RequestHeadersTimeout must be positive");
        errors.AddIf(options.KeepAliveTimeout <= TimeSpan.Zero, $"{s}:KeepAliveTimeout must be positive");
        errors.AddIf(options.MaxConcurrentConnections < 0, $"{s}:MaxConcurrentConnections must be 0 (no limit) or positive");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

internal static class ErrorListExtensions
{
    public static void AddIf(this List<string> errors, bool failed, string message)
    {
        if (failed)
        {
            errors.Add(message);
        }
    }
}
