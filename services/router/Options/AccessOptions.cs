namespace MoeDapr.Router.Options;

/// <summary>Who may call the router (<c>Router:ApiKeys</c>) and where the operator routes answer (<c>Router:AdminPort</c>).</summary>
public sealed class AccessOptions
{
    public const string Section = "Router";

    /// <summary>Client keys; none configured leaves the client API open (as vLLM without <c>--api-key</c>).</summary>
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>The port of the second listener that alone serves <c>/admin/*</c>; 0 turns the admin routes off.</summary>
    public int AdminPort { get; set; }
}
