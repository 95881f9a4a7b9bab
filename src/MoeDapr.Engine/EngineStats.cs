namespace MoeDapr.Engine;

/// <summary>A snapshot of the engine's load.</summary>
public sealed record EngineStats
{
    public int Running { get; init; }
    public int Waiting { get; init; }
    public int KvBlocksUsed { get; init; }
    public int KvBlocksTotal { get; init; }
    public int KvHandles { get; init; }
    public long PrefixCacheQueries { get; init; }
    public long PrefixCacheHits { get; init; }
    public long PromptTokens { get; init; }
    public long GeneratedTokens { get; init; }
    public long Steps { get; init; }

    /// <summary>Native tensors alive that the engine thread created (TorchSharp's per-thread statistics); flat in steady state.</summary>
    public long LiveTensors { get; init; }

    /// <summary>Prompt plus generated tokens computed per second over the last few seconds.</summary>
    public double TokensPerSecond { get; init; }
}
