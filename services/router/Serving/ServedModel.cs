using Microsoft.Extensions.Options;
using MoeDapr.Model;

namespace MoeDapr.Router.Serving;

/// <summary>The one model this router serves: its OpenAI name, context length, tokenizer and chat template.</summary>
public sealed class ServedModel(string name, int contextLength, ITextTokenizer tokenizer, IChatTemplate chatTemplate, DateTimeOffset created)
{
    public string Name { get; } = name;

    /// <summary>Prompt plus output tokens at most.</summary>
    public int ContextLength { get; } = contextLength;

    public ITextTokenizer Tokenizer { get; } = tokenizer;

    public IChatTemplate ChatTemplate { get; } = chatTemplate;

    /// <summary>The <c>created</c> of <c>/v1/models</c>.</summary>
    public DateTimeOffset Created { get; } = created;
}
