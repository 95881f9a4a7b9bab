namespace MoeDapr.Engine;

/// <summary>
/// Where one model step spent its MoE time (wall clock on the engine thread; exact on CPU, where ops run synchronously).
/// </summary>
/// <param name="RoutingSeconds">Gate projection, softmax and top-k, summed over the MoE layers.</param>
/// <param name="RankSeconds">Per EP rank: expert computation of its slots, summed over the MoE layers.</param>
public sealed record StepTiming(double RoutingSeconds, double[] RankSeconds);
