namespace MoeDapr.Sidecar.Resources;

/// <summary>A Dapr Component resource (dapr.io/v1alpha1).</summary>
public sealed record ComponentSpec(
    string Name,
    string Type,
    string Version,
    IReadOnlyDictionary<string, string> Metadata,
    IReadOnlyList<string> Scopes,
    string Source)
{
    /// <summary>Whether the component applies to the app (no scopes means every app).</summary>
    public bool AppliesTo(string appId) => Scopes.Count == 0 || Scopes.Contains(appId, StringComparer.Ordinal);

    public string? Get(string key) =>
        Metadata.TryGetValue(key, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    public string Require(string key) =>
        Get(key) ?? throw new SidecarResourceException(
            $"component '{Name}' ({Type}) in {Source}: required metadata '{key}' is missing.");

    public bool GetBool(string key, bool fallback)
    {
        var value = Get(key);
        if (value is null)
        {
            return fallback;
        }

        return value.Trim().ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "y" or "on" => true,
            "false" or "0" or "no" or "n" or "off" => false,
            _ => throw new SidecarResourceException($"component '{Name}' in {Source}: metadata '{key}' = '{value}' is not a boolean."),
        };
    }

    public int GetInt(string key, int fallback, int min = int.MinValue)
    {
        var value = Get(key);
        if (value is null)
        {
            return fallback;
        }

        if (!int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var parsed) || parsed < min)
        {
            throw new SidecarResourceException($"component '{Name}' in {Source}: metadata '{key}' = '{value}' is not an integer >= {min}.");
        }

        return parsed;
    }

    public TimeSpan GetDuration(string key, TimeSpan fallback)
    {
        var value = Get(key);
        if (value is null)
        {
            return fallback;
        }

        return DurationParser.TryParse(value, out var parsed)
            ? parsed
            : throw new SidecarResourceException($"component '{Name}' in {Source}: metadata '{key}' = '{value}' is not a duration (e.g. 15s, 500ms).");
    }
}

/// <summary>A routing rule of a subscription: deliver to Path when Match holds (empty Match: always).</summary>
public sealed record RouteRule(string Match, string Path);

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

/// <summary>A named retry policy of a Resiliency resource.</summary>
public sealed record RetryPolicy(string Name, bool Exponential, TimeSpan Duration, TimeSpan MaxInterval, int MaxRetries)
{
    /// <summary>Delay before retry number attempt (1-based); exponential doubles from Duration up to MaxInterval.</summary>
    public TimeSpan DelayFor(int attempt)
    {
        if (!Exponential)
        {
            return Duration;
        }

        var factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(Duration.Ticks * factor, MaxInterval.Ticks));
        return delay;
    }

    /// <summary>True when another retry is allowed after attempt failed ones; negative MaxRetries means unlimited.</summary>
    public bool Allows(int attempt) => MaxRetries < 0 || attempt <= MaxRetries;
}

/// <summary>A Resiliency resource (dapr.io/v1alpha1), reduced to the retry policies the sidecar applies.</summary>
public sealed record ResiliencySpec(
    string Name,
    IReadOnlyDictionary<string, RetryPolicy> Retries,
    IReadOnlyDictionary<string, string> ComponentInboundRetry,
    IReadOnlyDictionary<string, string> ComponentOutboundRetry,
    IReadOnlyDictionary<string, string> AppRetry,
    IReadOnlyList<string> Scopes);

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

/// <summary>A malformed or unsupported resource file; the message names the file and the field.</summary>
public sealed class SidecarResourceException(string message) : Exception(message);
