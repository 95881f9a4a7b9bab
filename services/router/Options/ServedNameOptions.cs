namespace MoeDapr.Router.Options;

/// <summary>The names clients may send as <c>model</c> (<c>Router:ServedModelNames</c>, vLLM's <c>--served-model-name</c>).</summary>
public sealed class ServedNameOptions
{
    public const string Section = "Router";

    /// <summary>Accepted <c>model</c> names, the first one reported first; empty takes <c>Model:Name</c> or the checkpoint folder's name.</summary>
    public List<string> ServedModelNames { get; set; } = [];
}
