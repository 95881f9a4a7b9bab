using Microsoft.Extensions.Options;

namespace MoeDapr.Router.Options;

/// <summary>Start-time checks whose messages name the setting to fix.</summary>
public sealed class RouterOptionsValidator :
    IValidateOptions<ModelOptions>, IValidateOptions<AdmissionOptions>, IValidateOptions<BatchingOptions>,
    IValidateOptions<WorkerOptions>, IValidateOptions<DegradedOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelOptions options)
    {
        var errors = new List<string>();
        Check(errors, options.ContextLength >= 0, $"{ModelOptions.Section}:ContextLength must be 0 (from config.json) or positive");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, AdmissionOptions options)
    {
        var errors = new List<string>();
        var s = AdmissionOptions.Section;
        Check(errors, Policies.PolicyNames.Admission.Contains(options.Policy), $"{s}:Policy must be one of {string.Join(", ", Policies.PolicyNames.Admission)}");
        Check(errors, options.MaxQueuedRequests >= 1, $"{s}:MaxQueuedRequests must be at least 1");
        Check(errors, options.MaxQueuedPromptTokens >= 1, $"{s}:MaxQueuedPromptTokens must be at least 1");
        Check(errors, options.LowPriorityMaxFill is > 0 and <= 1, $"{s}:LowPriorityMaxFill must be in (0, 1]");
        Check(errors, options.QueueTimeout > TimeSpan.Zero, $"{s}:QueueTimeout must be positive");
        Check(errors, options.TargetQueueDelay >= TimeSpan.Zero, $"{s}:TargetQueueDelay must not be negative (0 turns the wait estimate off)");
        Check(errors, options.DispatchDeadline >= TimeSpan.Zero, $"{s}:DispatchDeadline must not be negative (0 turns deadline shedding off)");
        Check(errors, options.DispatchDeadline == TimeSpan.Zero || options.TargetQueueDelay <= options.DispatchDeadline,
            $"{s}:TargetQueueDelay must not exceed {s}:DispatchDeadline (admitted requests would be shed before dispatch)");
        Check(errors, options.MinRetryAfterSeconds >= 1 && options.MaxRetryAfterSeconds >= options.MinRetryAfterSeconds,
            $"{s}:MinRetryAfterSeconds must be at least 1 and not above {s}:MaxRetryAfterSeconds");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, BatchingOptions options)
    {
        var errors = new List<string>();
        var s = BatchingOptions.Section;
        Check(errors, Policies.PolicyNames.Batching.Contains(options.Policy), $"{s}:Policy must be one of {string.Join(", ", Policies.PolicyNames.Batching)}");
        Check(errors, options.MinBatchSize >= 1, $"{s}:MinBatchSize must be at least 1");
        Check(errors, options.MaxBatchSize >= options.MinBatchSize, $"{s}:MaxBatchSize must be at least {s}:MinBatchSize");
        Check(errors, options.InitialBatchSize >= options.MinBatchSize && options.InitialBatchSize <= options.MaxBatchSize,
            $"{s}:InitialBatchSize must lie between {s}:MinBatchSize and {s}:MaxBatchSize");
        Check(errors, options.MaxBatchTokens >= 1, $"{s}:MaxBatchTokens must be at least 1");
        Check(errors, options.GrowQueueDepth > options.ShrinkQueueDepth, $"{s}:GrowQueueDepth must be above {s}:ShrinkQueueDepth");
        Check(errors, options.GrowUtilization is >= 0 and <= 1 && options.ShrinkUtilization is >= 0 and <= 1,
            $"{s}:GrowUtilization and {s}:ShrinkUtilization must be in [0, 1]");
        Check(errors, options.AdaptInterval >= TimeSpan.Zero, $"{s}:AdaptInterval must not be negative");
        Check(errors, options.MaxInFlightBatchesPerWorker >= 1, $"{s}:MaxInFlightBatchesPerWorker must be at least 1");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, WorkerOptions options)
    {
        var errors = new List<string>();
        var s = WorkerOptions.Section;
        Check(errors, Policies.PolicyNames.Prefill.Contains(options.PrefillPolicy), $"{s}:PrefillPolicy must be one of {string.Join(", ", Policies.PolicyNames.Prefill)}");
        Check(errors, Policies.PolicyNames.Decode.Contains(options.DecodePolicy), $"{s}:DecodePolicy must be one of {string.Join(", ", Policies.PolicyNames.Decode)}");
        Check(errors, options.StaleAfter > TimeSpan.Zero, $"{s}:StaleAfter must be positive");
        Check(errors, options.FailureCooldown >= TimeSpan.Zero, $"{s}:FailureCooldown must not be negative");
        Check(errors, options.SaturatedKvUsage is > 0 and <= 1, $"{s}:SaturatedKvUsage must be in (0, 1]");
        Check(errors, options.MaxAttempts >= 1, $"{s}:MaxAttempts must be at least 1");
        Check(errors, options.PrefillTimeout > TimeSpan.Zero, $"{s}:PrefillTimeout must be positive");
        Check(errors, options.DecodeIdleTimeout > TimeSpan.Zero, $"{s}:DecodeIdleTimeout must be positive");
        Check(errors, options.DecodeTimeout >= options.DecodeIdleTimeout, $"{s}:DecodeTimeout must be at least {s}:DecodeIdleTimeout");
        Check(errors, options.LocalPrefillMaxTokens >= 0, $"{s}:LocalPrefillMaxTokens must not be negative");
        Check(errors, options.LocalPrefillCachedFraction is > 0 and <= 1, $"{s}:LocalPrefillCachedFraction must be in (0, 1]");
        Check(errors, options.PrefixOverlapWeight >= 0, $"{s}:PrefixOverlapWeight must not be negative");
        Check(errors, options.BlockSize >= 1, $"{s}:BlockSize must be at least 1");
        Check(errors, !string.IsNullOrWhiteSpace(options.KvTransferAppId), $"{s}:KvTransferAppId must be set");
        Check(errors, options.KvTransferProbeInterval > TimeSpan.Zero, $"{s}:KvTransferProbeInterval must be positive");
        return Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, DegradedOptions options)
    {
        var errors = new List<string>();
        Check(errors, options.MaxBatchSize >= 1, $"{DegradedOptions.Section}:MaxBatchSize must be at least 1");
        Check(errors, options.QueueTimeout > TimeSpan.Zero, $"{DegradedOptions.Section}:QueueTimeout must be positive");
        return Result(errors);
    }

    private static void Check(List<string> errors, bool condition, string message)
    {
        if (!condition)
        {
            errors.Add(message);
        }
    }

    private static ValidateOptionsResult Result(List<string> errors) =>
        errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
