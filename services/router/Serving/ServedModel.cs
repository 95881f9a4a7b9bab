using Microsoft.Extensions.Options;
using MoeDapr.Model;

namespace MoeDapr.Router.Serving;

/// <summary>The one model this router serves: its OpenAI names, context length, tokenizer and chat template.</summary>
public sealed class ServedModel(
    string name, int contextLength, ITextTokenizer tokenizer, IChatTemplate chatTemplate, DateTimeOffset created, IReadOnlyList<string>? servedNames = null)
{
    /// <summary>The first served name: the one logs and <c>/v1/models</c> put first.</summary>
    public string Name { get; } = servedNames is { Count: > 0 } ? servedNames[0] : name;

    /// <summary>Every name a request's <c>model</c> may carry, in the order configured.</summary>
    public IReadOnlyList<string> Names { get; } = servedNames is { Count: > 0 } ? servedNames.Distinct(StringComparer.Ordinal).ToArray() : [name];

    /// <summary>The checkpoint this model was loaded from (<c>root</c> of <c>/v1/models</c>).</summary>
    public string Root { get; init; } = name;

    /// <summary>Whether <paramref name="requested"/> is one of <see cref="Names"/> (exact, as vLLM compares).</summary>
    public bool Serves(string requested) => Names.Contains(requested, StringComparer.Ordinal);

    /// <summary>Prompt plus output tokens at most.</summary>
    public int ContextLength { get; } = contextLength;

    public ITextTokenizer Tokenizer { get; } = tokenizer;

    public IChatTemplate ChatTemplate { get; } = chatTemplate;

    /// <summary>The <c>created</c> of <c>/v1/models</c>.</summary>
    public DateTimeOffset Created { get; } = created;
}
