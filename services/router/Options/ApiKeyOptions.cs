using MoeDapr.Contracts;

namespace MoeDapr.Router.Options;

/// <summary>One client key of <c>Router:ApiKeys</c>: the secret, a name for logs and metrics, its priority class and rate.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The secret the client sends as <c>Authorization: Bearer KEY</c>.</summary>
    public string Key { get; set; } = string.Empty;

    /// <summary>Who holds the key (logged instead of the key).</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The highest class its requests get, and the class of requests that name none.</summary>
    public RequestPriority Priority { get; set; } = RequestPriority.Normal;

    /// <summary>Sustained requests per second (0 = no limit).</summary>
    public double RequestsPerSecond { get; set; }

    /// <summary>Requests that may arrive at once on top of the sustained rate (at least 1 when limited).</summary>
    public int Burst { get; set; } = 1;
}
