namespace MoeDapr.Sidecar.Resources;

/// <summary>A subscription, declarative (Subscription YAML) or programmatic (the app's /dapr/subscribe).</summary>
public sealed record SubscriptionSpec(
    string PubsubName,
    string Topic,
    IReadOnlyList<RouteRule> Rules,
    string? DefaultRoute,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Scopes,
    string Kind)
{
    public bool AppliesTo(string appId) => Scopes.Count == 0 || Scopes.Contains(appId, StringComparer.Ordinal);
}
