namespace MoeDapr.Router.Scheduling;

/// <summary>What admission answered.</summary>
public sealed record AdmissionResult(bool Admitted, string? Reason, TimeSpan RetryAfter);
