using Microsoft.Extensions.Options;
using MoeDapr.Model;
using MoeDapr.Router.Options;

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

/// <summary>Loads a tokenizer and chat template for a checkpoint folder (implemented over MoeDapr.Model's loaders).</summary>
public interface ITokenizerSource
{
    (ITextTokenizer Tokenizer, IChatTemplate ChatTemplate) Load(string modelDir, ModelConfig config);
}

/// <summary>Builds the <see cref="ServedModel"/> from <c>Router:Model</c> at start; errors name the setting.</summary>
public static class ServedModelLoader
{
    public static ServedModel Load(ModelOptions options, ITokenizerSource tokenizers, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw new OptionsValidationException(ModelOptions.Section, typeof(ModelOptions),
                [$"{ModelOptions.Section}:Path must name the checkpoint folder (config.json, tokenizer.json) the workers serve"]);
        }

        var dir = Path.GetFullPath(options.Path);
        ModelConfig config;
        try
        {
            config = ModelConfig.Load(dir);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ModelFormatException)
        {
            throw new OptionsValidationException(ModelOptions.Section, typeof(ModelOptions),
                [$"{ModelOptions.Section}:Path '{dir}' is not a usable checkpoint: {ex.Message}"]);
        }

        var (tokenizer, template) = tokenizers.Load(dir, config);
        var name = string.IsNullOrWhiteSpace(options.Name) ? new DirectoryInfo(dir).Name : options.Name;
        var context = options.ContextLength > 0 ? options.ContextLength : config.MaxPositionEmbeddings;
        return new ServedModel(name, context, tokenizer, template, time.GetUtcNow());
    }
}
