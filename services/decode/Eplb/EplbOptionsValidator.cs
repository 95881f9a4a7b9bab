using Microsoft.Extensions.Options;
using MoeDapr.Engine.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>Checks <see cref="EplbOptions"/> at start; each message names the setting to fix.</summary>
public sealed class EplbOptionsValidator : IValidateOptions<EplbOptions>
{
    public ValidateOptionsResult Validate(string? name, EplbOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!ExpertPlacementPolicies.Names.Contains(options.Algorithm, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"Eplb:Algorithm '{options.Algorithm}' is unknown (known: {string.Join(", ", ExpertPlacementPolicies.Names)}).");
        }

        if (options.RedundantExperts is < 0)
        {
            errors.Add($"Eplb:RedundantExperts must not be negative (got {options.RedundantExperts}).");
        }

        if (options.RebalanceFrequency < 1)
        {
            errors.Add($"Eplb:RebalanceFrequency must be at least 1 step (got {options.RebalanceFrequency}).");
        }

        if (options.WindowSize < 1)
        {
            errors.Add($"Eplb:WindowSize must be at least 1 step (got {options.WindowSize}).");
        }

        if (options.WindowInterval <= TimeSpan.Zero)
        {
            errors.Add($"Eplb:WindowInterval must be positive (got {options.WindowInterval}).");
        }

        if (options.BalancednessThreshold is < 0 or > 1 || double.IsNaN(options.BalancednessThreshold))
        {
            errors.Add($"Eplb:BalancednessThreshold must be in [0, 1] (got {options.BalancednessThreshold}).");
        }

        if (options.MinImprovement is < 0 or >= 1 || double.IsNaN(options.MinImprovement))
        {
            errors.Add($"Eplb:MinImprovement must be in [0, 1) (got {options.MinImprovement}).");
        }

        if (options.LayersPerChunk < 1)
        {
            errors.Add($"Eplb:LayersPerChunk must be at least 1 (got {options.LayersPerChunk}).");
        }

        if (options.Groups < 1)
        {
            errors.Add($"Eplb:Groups must be at least 1 (got {options.Groups}).");
        }

        if (options.Nodes < 1)
        {
            errors.Add($"Eplb:Nodes must be at least 1 (got {options.Nodes}).");
        }

        if (options.PlanPollInterval <= TimeSpan.Zero)
        {
            errors.Add($"Eplb:PlanPollInterval must be positive (got {options.PlanPollInterval}).");
        }

        if (options.TelemetryInterval <= TimeSpan.Zero)
        {
            errors.Add($"Eplb:TelemetryInterval must be positive (got {options.TelemetryInterval}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
