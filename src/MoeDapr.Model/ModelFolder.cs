using System.Text.Json;
using System.Text.Json.Nodes;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Model;

/// <summary>
/// Everything about a Hugging Face model folder except its weights: config, generation settings, tokenizer
/// and chat template. Needs no TorchSharp, so the router can load it.
/// </summary>
public sealed class ModelFolder
{
    private readonly HuggingFaceTokenizer? _tokenizer;

    private ModelFolder(string directory, ModelConfig config, GenerationConfig generation, HuggingFaceTokenizer? tokenizer)
    {
        Directory = directory;
        Config = config;
        Generation = generation;
        _tokenizer = tokenizer;
        ChatTemplate = ChatTemplates.ForFamily(config.Family);
    }

    public string Directory { get; }

    public ModelConfig Config { get; }

    /// <summary>
    /// Generation settings with BOS/EOS resolved: <c>generation_config.json</c> first, then
    /// <c>tokenizer_config.json</c>, then <c>config.json</c>.
    /// </summary>
    public GenerationConfig Generation { get; }

    /// <summary>Token ids that end generation.</summary>
    public IReadOnlyList<int> EosTokenIds => Generation.EosTokenIds;

    /// <summary>Whether the folder has a tokenizer.json.</summary>
    public bool HasTokenizer => _tokenizer is not null;

    /// <summary>The tokenizer (its EOS ids are <see cref="EosTokenIds"/>); throws naming the file when the folder has none.</summary>
    public HuggingFaceTokenizer Tokenizer => _tokenizer
        ?? throw new ModelFormatException($"{Path.Combine(Directory, HuggingFaceTokenizer.FileName)}: not found (text prompts need a tokenizer; token ids work without)");

    /// <summary>The chat template of the model's family.</summary>
    public IChatTemplate ChatTemplate { get; }

    /// <summary>Renders <paramref name="messages"/> with the chat template and encodes them (the template supplies any BOS).</summary>
    public IReadOnlyList<int> EncodeChat(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true) =>
        Tokenizer.Encode(ChatTemplate.Render(messages, addGenerationPrompt), addSpecialTokens: false);

    /// <summary>Reads the folder's config, generation settings and tokenizer (if any).</summary>
    public static ModelFolder Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelFormatException($"{directory}: model folder not found");
        }

        var config = ModelConfig.Load(directory);
        var fromFile = GenerationConfig.Load(directory);
        var tokenizerPath = Path.Combine(directory, HuggingFaceTokenizer.FileName);
        var tokenizer = File.Exists(tokenizerPath) ? HuggingFaceTokenizer.Load(tokenizerPath) : null;
        var (configBos, configEos) = ReadTokenizerConfig(directory, tokenizer);

        var eos = fromFile is { EosTokenIds.Count: > 0 } ? fromFile.EosTokenIds
            : configEos is { } eosId ? [eosId]
            : config.EosTokenIds;
        var generation = (fromFile ?? new GenerationConfig()) with
        {
            BosTokenId = fromFile?.BosTokenId ?? configBos ?? config.BosTokenId,
            EosTokenIds = eos,
        };

        foreach (var id in eos.Append(generation.BosTokenId ?? 0))
        {
            if (id < 0 || id >= config.VocabSize)
            {
                throw new ModelFormatException(
                    $"{directory}: special token id {id} (BOS/EOS from generation_config.json, tokenizer_config.json or config.json) is outside vocab_size {config.VocabSize}");
            }
        }

        if (tokenizer is not null)
        {
            // Ids past the embedding would fail inside the model while serving; refuse the folder now instead.
            if (tokenizer.VocabSize > config.VocabSize)
            {
                throw new ModelFormatException(
                    $"{tokenizerPath}: the tokenizer has {tokenizer.VocabSize} tokens but config.json's vocab_size is {config.VocabSize}");
            }

            foreach (var id in eos)
            {
                if (tokenizer.IdToToken(id) is null)
                {
                    throw new ModelFormatException($"{tokenizerPath}: end-of-sequence id {id} is not a token of this tokenizer");
                }
            }

            tokenizer = tokenizer.WithEosTokenIds(eos);
        }

        return new ModelFolder(directory, config, generation, tokenizer);
    }

    /// <summary>BOS/EOS ids named by <c>tokenizer_config.json</c> (token strings, or objects with "content").</summary>
    private static (int? Bos, int? Eos) ReadTokenizerConfig(string directory, HuggingFaceTokenizer? tokenizer)
    {
        var path = Path.Combine(directory, TokenizerFiles.TokenizerConfigFileName);
        if (tokenizer is null || !File.Exists(path))
        {
            return (null, null);
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: invalid JSON: {e.Message}", e);
        }

        int? Id(string key)
        {
            var value = node?[key];
            var text = value switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonObject o when o["content"] is JsonValue c && c.TryGetValue<string>(out var s) => s,
                _ => null,
            };
            if (text is null)
            {
                return null;
            }

            return tokenizer.TokenToId(text) ?? throw new ModelFormatException($"{path}: {key} \"{text}\" is not a token of tokenizer.json");
        }

        return (Id("bos_token"), Id("eos_token"));
    }
}
