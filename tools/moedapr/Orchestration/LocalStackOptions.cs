namespace MoeDapr.Cli.Orchestration;

/// <summary>What <see cref="LocalStack"/> starts.</summary>
public sealed record LocalStackOptions
{
    public required string ModelDir { get; init; }

    /// <summary>The router's (OpenAI API) port.</summary>
    public int Port { get; init; } = 8080;

    public int PrefillReplicas { get; init; } = 1;

    public int DecodeReplicas { get; init; } = 1;

    /// <summary>Expert-parallel ranks of each decode replica.</summary>
    public int DecodeExpertParallel { get; init; } = 1;

    /// <summary>Redis <c>host:port</c> for pub/sub and state; null keeps both in memory (inside the one sidecar host).</summary>
    public string? Redis { get; init; }

    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>False starts only the workers (kv-transfer, prefill, decode) and waits for them through their sidecars.</summary>
    public bool IncludeRouter { get; init; } = true;

    /// <summary>The names the router accepts as <c>model</c> (<c>Router:ServedModelNames</c>); empty serves the checkpoint folder's name.</summary>
    public IReadOnlyList<string> ServedModelNames { get; init; } = [];

    /// <summary>True tells every app to log only warnings and the project's own events (<see cref="ConsoleOutput.QuietLogLevels"/>).</summary>
    public bool Quiet { get; init; }

    /// <summary>Extra environment for every app (e.g. engine settings).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}
