using System.Collections.Immutable;

namespace MoeDapr.Engine.Eplb;

/// <summary>Balancedness of a placement per layer (mean rank load / max rank load, 1 = perfect) and averaged over layers.</summary>
public sealed record BalancednessReport(ImmutableArray<double> PerLayer, double Mean);
