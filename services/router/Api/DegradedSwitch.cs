namespace MoeDapr.Router.Api;

/// <summary>Body of <c>POST /admin/degraded</c>.</summary>
public sealed record DegradedSwitch(bool? Enabled);
