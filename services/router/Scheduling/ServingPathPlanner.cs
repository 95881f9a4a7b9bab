using Microsoft.Extensions.Options;
using MoeDapr.Contracts;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Scheduling;

/// <summary>
/// Conditional disaggregation: remote prefill pays a KV transfer, which short prompts and prompts already in the decode
/// worker's cache do not repay; without a healthy prefill path everything is served on decode.
/// </summary>
public sealed class ServingPathPlanner(IOptions<WorkerOptions> options)
{
    private readonly WorkerOptions _options = options.Value;

    /// <summary>One of <see cref="ServingPaths"/>.</summary>
    public string Plan(int promptTokens, int promptBlocks, int decodeCachedBlocks, bool disaggregationAvailable)
    {
        if (!disaggregationAvailable)
        {
            return ServingPaths.Aggregated;
        }

        if (promptTokens <= _options.LocalPrefillMaxTokens)
        {
            return ServingPaths.LocalPrefill;
        }

        if (promptBlocks > 0 && (double)decodeCachedBlocks / promptBlocks >= _options.LocalPrefillCachedFraction)
        {
            return ServingPaths.LocalPrefill;
        }

        return ServingPaths.Disaggregated;
    }
}
