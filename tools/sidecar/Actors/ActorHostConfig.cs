using System.Text.Json;
using MoeDapr.Sidecar.Resources;

namespace MoeDapr.Sidecar.Actors;

/// <summary>What an app's GET /dapr/config says about its actors, with daprd's defaults for what it leaves out.</summary>
public sealed record ActorHostConfig
{
    /// <summary>No actors (the app answered 404 or an empty body).</summary>
    public static ActorHostConfig None { get; } = new();

    public IReadOnlyList<string> HostedTypes { get; init; } = [];

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(60);

    public TimeSpan ScanInterval { get; init; } = TimeSpan.FromSeconds(30);

    public bool ReentrancyEnabled { get; init; }

    public int MaxStackDepth { get; init; } = 32;

    /// <summary>Reads the config body; durations in Go or ISO 8601 form, unparseable values keep their defaults.</summary>
    public static ActorHostConfig Parse(JsonElement root)
    {
        var config = new ActorHostConfig();
        if (root.TryGetProperty("entities", out var entities) && entities.ValueKind == JsonValueKind.Array)
        {
            config = config with { HostedTypes = entities.EnumerateArray().Select(e => e.GetString() ?? "").Where(e => e.Length > 0).ToList() };
        }

        if (root.TryGetProperty("actorIdleTimeout", out var idle) && DurationParser.TryParse(idle.GetString(), out var idleTimeout))
        {
            config = config with { IdleTimeout = idleTimeout };
        }

        if (root.TryGetProperty("actorScanInterval", out var scanText) && DurationParser.TryParse(scanText.GetString(), out var scan))
        {
            config = config with { ScanInterval = scan };
        }

        if (root.TryGetProperty("reentrancy", out var reentrancy) && reentrancy.ValueKind == JsonValueKind.Object)
        {
            config = config with { ReentrancyEnabled = reentrancy.TryGetProperty("enabled", out var enabled) && enabled.ValueKind == JsonValueKind.True };
            if (reentrancy.TryGetProperty("maxStackDepth", out var depth) && depth.TryGetInt32(out var maxDepth) && maxDepth > 0)
            {
                config = config with { MaxStackDepth = maxDepth };
            }
        }

        return config;
    }
}
