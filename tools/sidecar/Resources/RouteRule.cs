namespace MoeDapr.Sidecar.Resources;

/// <summary>A routing rule of a subscription: deliver to Path when Match holds (empty Match: always).</summary>
public sealed record RouteRule(string Match, string Path);
