namespace MoeDapr.Sidecar.Resources;

/// <summary>A Resiliency resource (dapr.io/v1alpha1), reduced to the retry policies the sidecar applies.</summary>
public sealed record ResiliencySpec(
    string Name,
    IReadOnlyDictionary<string, RetryPolicy> Retries,
    IReadOnlyDictionary<string, string> ComponentInboundRetry,
    IReadOnlyDictionary<string, string> ComponentOutboundRetry,
    IReadOnlyDictionary<string, string> AppRetry,
    IReadOnlyList<string> Scopes);
