namespace MoeDapr.Router.Generation;

/// <summary>Which OpenAI route a request came through (decides the response shapes).</summary>
public enum ApiKind
{
    Completion,
    Chat,
}
