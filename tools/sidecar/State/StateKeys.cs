namespace MoeDapr.Sidecar.State;

/// <summary>daprd's key layout: "{appId}||{key}" unless keyPrefix says otherwise.</summary>
public static class StateKeys
{
    public const string Separator = "||";

    public static string For(IStateStore store, string appId, string key) => store.KeyPrefix switch
    {
        "appid" => appId + Separator + key,
        "name" => store.Name + Separator + key,
        "none" => key,
        var prefix => prefix + Separator + key,
    };

    /// <summary>Removes the prefix again (for bulk answers keyed by the caller's key).</summary>
    public static string Strip(string fullKey)
    {
        var index = fullKey.IndexOf(Separator, StringComparison.Ordinal);
        return index < 0 ? fullKey : fullKey[(index + Separator.Length)..];
    }

    /// <summary>The actor state key: "{appId}||{actorType}||{actorId}||{key}".</summary>
    public static string ForActor(string appId, string actorType, string actorId, string key) =>
        string.Join(Separator, appId, actorType, actorId, key);
}
