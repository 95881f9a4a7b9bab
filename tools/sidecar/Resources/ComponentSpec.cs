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
