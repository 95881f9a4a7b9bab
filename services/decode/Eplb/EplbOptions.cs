using Microsoft.Extensions.Options;
using MoeDapr.Engine.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>
/// Settings of the expert load balancer (section <c>Eplb</c>); names follow SGLang's and TensorRT-LLM's (in brackets).
/// </summary>
public sealed class EplbOptions
{
    public const string Section = "Eplb";

    /// <summary><c>Eplb:Enabled</c> (enable_eplb): publish load windows, host the coordinator actor, apply its plans.</summary>
    public bool Enabled { get; set; }

    /// <summary><c>Eplb:Algorithm</c> (eplb_algorithm): the placement policy, by name (<c>deepseek</c>).</summary>
    public string Algorithm { get; set; } = DeepSeekEplbPolicy.PolicyName;

    /// <summary>
    /// <c>Eplb:RedundantExperts</c> (ep_num_redundant_experts): extra physical expert slots per MoE layer for replicas
    /// of hot experts. When set it overrides <c>Engine:RedundantExperts</c>; experts + redundant experts must be a
    /// multiple of <c>Engine:ExpertParallelSize</c>.
    /// </summary>
    public int? RedundantExperts { get; set; }

    /// <summary><c>Eplb:RebalanceFrequency</c> (eplb_rebalance_num_iterations): engine steps between two decisions.</summary>
    public long RebalanceFrequency { get; set; } = 1000;

    /// <summary><c>Eplb:WindowSize</c> (expert_distribution_recorder_buffer_size): engine steps per published load window.</summary>
    public int WindowSize { get; set; } = 100;

    /// <summary><c>Eplb:WindowInterval</c>: a window is published at least this often while the engine steps.</summary>
    public TimeSpan WindowInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// <c>Eplb:BalancednessThreshold</c> (eplb_min_rebalancing_utilization_threshold): decide before the next
    /// <c>RebalanceFrequency</c> when the placement in use scores below this on the latest load (mean / max rank load, 0..1;
    /// 0 turns the early decision off).
    /// </summary>
    public double BalancednessThreshold { get; set; } = 0.8;

    /// <summary><c>Eplb:MinImprovement</c>: a new plan is published only when its balancedness beats the current one by this much.</summary>
    public double MinImprovement { get; set; } = 0.01;

    /// <summary><c>Eplb:LayersPerChunk</c> (eplb_rebalance_layers_per_chunk): MoE layers moved in one engine pause.</summary>
    public int LayersPerChunk { get; set; } = 1;

    /// <summary><c>Eplb:Groups</c>: expert groups (G) for the hierarchical policy; 1 means none.</summary>
    public int Groups { get; set; } = 1;

    /// <summary><c>Eplb:Nodes</c>: nodes (N) the EP ranks span; 1 for one machine.</summary>
    public int Nodes { get; set; } = 1;

    /// <summary><c>Eplb:PlanPollInterval</c>: how often a replica asks the coordinator for its plan (catches missed broadcasts and restarts).</summary>
    public TimeSpan PlanPollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary><c>Eplb:TelemetryInterval</c>: the window of the utilization, Gini, max/mean and balancedness gauges.</summary>
    public TimeSpan TelemetryInterval { get; set; } = TimeSpan.FromSeconds(5);
}
