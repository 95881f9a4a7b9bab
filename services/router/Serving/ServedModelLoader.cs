using System.Text.Json;
using Microsoft.Extensions.Options;
using MoeDapr.Model;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Serving;

/// <summary>Builds the <see cref="ServedModel"/> from the <c>Model</c> settings at start (config, tokenizer, chat template; no weights).</summary>
public static class ServedModelLoader
{
    public static ServedModel Load(ModelOptions options, TimeProvider time, IReadOnlyList<string>? servedNames = null)
    {
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw Invalid($"{ModelOptions.Section}:Path must name the checkpoint folder (config.json, tokenizer.json) the workers serve");
        }

        var dir = Path.GetFullPath(options.Path);
        ModelFolder folder;
        ITextTokenizer tokenizer;
        try
        {
            folder = ModelFolder.Load(dir);
            tokenizer = folder.Tokenizer; // the router tokenizes every text prompt: a folder without one cannot serve
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ModelFormatException or JsonException)
        {
            throw Invalid($"{ModelOptions.Section}:Path '{dir}' is not a usable checkpoint: {ex.Message}");
        }

        var name = string.IsNullOrWhiteSpace(options.Name) ? new DirectoryInfo(dir).Name : options.Name;
        var context = options.ContextLength > 0 ? options.ContextLength : folder.Config.MaxPositionEmbeddings;
        var names = servedNames?.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()).ToArray();
        return new ServedModel(name, context, tokenizer, folder.ChatTemplate, time.GetUtcNow(), names) { Root = dir };
    }

    private static OptionsValidationException Invalid(string message) => new(ModelOptions.Section, typeof(ModelOptions), [message]);
}
