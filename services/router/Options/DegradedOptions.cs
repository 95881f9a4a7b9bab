namespace MoeDapr.Router.Options;

/// <summary>Incident settings (<c>Router:Degraded</c>); <c>POST /admin/degraded</c> switches them at run time.</summary>
public sealed class DegradedOptions
{
    public const string Section = "Router:Degraded";

    public bool Enabled { get; set; }

    public int MaxBatchSize { get; set; } = 16;

    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
