namespace MoeDapr.Contracts.Eplb;

/// <summary>
/// The expert load one decode replica saw over one window (<c>Eplb:WindowSize</c> steps or <c>Eplb:WindowInterval</c>),
/// published on <see cref="EplbTopics.LoadWindows"/>: per MoE layer, the top-k assignments routed to each logical expert.
/// </summary>
public sealed record ExpertLoadWindow
{
    /// <summary>Served model name: the coordinator actor's id.</summary>
    public required string Model { get; init; }

    /// <summary>Dapr app id of the replica.</summary>
    public required string AppId { get; init; }

    /// <summary>Random id chosen at process start; with <see cref="Sequence"/> it lets the coordinator drop duplicates.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Counts up from 1 per instance.</summary>
    public required long Sequence { get; init; }

    public required long StartUnixMs { get; init; }

    public required long EndUnixMs { get; init; }

    /// <summary>Engine steps (forward passes) in the window.</summary>
    public required long Steps { get; init; }

    /// <summary>Expert-parallel ranks of the replica (M).</summary>
    public required int Ranks { get; init; }

    /// <summary>Physical expert slots per layer (R = experts + redundant experts).</summary>
    public required int Slots { get; init; }

    /// <summary>Logical experts per layer.</summary>
    public required int Experts { get; init; }

    /// <summary>Model layer index of each row of <see cref="Tokens"/> (dense layers are left out).</summary>
    public required IReadOnlyList<int> Layers { get; init; }

    /// <summary>[moe layers][experts]: top-k assignments routed to each logical expert during the window.</summary>
    public required IReadOnlyList<long[]> Tokens { get; init; }

    /// <summary>Version of the plan the replica was serving with (0: the initial placement).</summary>
    public long PlanVersion { get; init; }
}
