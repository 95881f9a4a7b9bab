using System.Net.Http.Headers;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.PubSub;

/// <summary>An active subscription with its parsed routing rules.</summary>
public sealed record ActiveSubscription(SubscriptionSpec Spec, IReadOnlyList<(MatchExpression? Match, string Path)> Rules, RetryPolicy? Retry);
