namespace MoeDapr.Router.Api.OpenAi;

/// <summary>One served model (<c>max_model_len</c> and <c>root</c>, the checkpoint, as vLLM reports them).</summary>
public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, int MaxModelLen)
{
    public string? Root { get; init; }
}
