namespace MoeDapr.Decode.Eplb;

/// <summary>The plan version this replica serves with (0: the initial placement).</summary>
public sealed record AppliedPlan(long Version);
