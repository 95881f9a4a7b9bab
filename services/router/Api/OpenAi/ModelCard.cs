namespace MoeDapr.Router.Api.OpenAi;

/// <summary>One served model (<c>max_model_len</c> as vLLM reports it).</summary>
public sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, int MaxModelLen);
