using MoeDapr.Model;

namespace MoeDapr.Router.Serving;

/// <summary>Stands in until a tokenizer.json loader is registered; fails at start with a message saying so.</summary>
public sealed class UnavailableTokenizerSource : ITokenizerSource
{
    public (ITextTokenizer Tokenizer, IChatTemplate ChatTemplate) Load(string modelDir, ModelConfig config) =>
        throw new InvalidOperationException($"No tokenizer loader is registered for {modelDir}: register an {nameof(ITokenizerSource)}.");
}
