namespace MoeDapr.Sidecar.Resources;

/// <summary>Everything read from --resources-path folders and --config.</summary>
public sealed class ResourceSet
{
    public List<ComponentSpec> Components { get; } = [];

    public List<SubscriptionSpec> Subscriptions { get; } = [];

    public List<ResiliencySpec> Resiliencies { get; } = [];

    public List<string> ConfigurationNames { get; } = [];

    /// <summary>The retry policy for deliveries from a pub/sub component to the app, if any Resiliency sets one.</summary>
    public RetryPolicy? InboundRetryFor(string appId, string componentName)
    {
        foreach (var resiliency in Resiliencies)
        {
            if (resiliency.Scopes.Count > 0 && !resiliency.Scopes.Contains(appId, StringComparer.Ordinal))
            {
                continue;
            }

            if (resiliency.ComponentInboundRetry.TryGetValue(componentName, out var name) && resiliency.Retries.TryGetValue(name, out var policy))
            {
                return policy;
            }
        }

        return null;
    }

    /// <summary>The retry policy for calls to a target app (service invocation), if any.</summary>
    public RetryPolicy? AppRetryFor(string appId, string targetAppId)
    {
        foreach (var resiliency in Resiliencies)
        {
            if (resiliency.Scopes.Count > 0 && !resiliency.Scopes.Contains(appId, StringComparer.Ordinal))
            {
                continue;
            }

            if (resiliency.AppRetry.TryGetValue(targetAppId, out var name) && resiliency.Retries.TryGetValue(name, out var policy))
            {
                return policy;
            }
        }

        return null;
    }
}
