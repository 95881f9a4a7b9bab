using System.Text.Json.Nodes;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Model.Tests;

public sealed class ModelFolderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "moedapr-tests", Guid.NewGuid().ToString("N"));

    public ModelFolderTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string name, JsonNode json) => File.WriteAllText(Path.Combine(_dir, name), json.ToJsonString());

    private ModelConfig WriteFolder(ModelFamily family, bool tokenizer = true)
    {
        var config = ModelPresets.Create(family, ModelPreset.Tiny);
        Write("config.json", config.ToJson());
        if (tokenizer)
        {
            var files = GeneratedTokenizer.Create(config);
            Write(HuggingFaceTokenizer.FileName, files.TokenizerJson);
            Write(TokenizerFiles.TokenizerConfigFileName, files.TokenizerConfig);
        }

        return config;
    }

    [Fact]
    public void Load_GenerationConfigPresent_ItsEosWins()
    {
        WriteFolder(ModelFamily.Qwen3Moe);
        Write(GenerationConfig.FileName, JsonNode.Parse("""{"bos_token_id":509,"eos_token_id":[511,509],"temperature":0.7,"top_p":0.8,"top_k":20}""")!);

        var folder = ModelFolder.Load(_dir);

        Assert.Equal([511, 509], folder.EosTokenIds);
        Assert.Equal([511, 509], folder.Tokenizer.EosTokenIds);
        Assert.Equal(509, folder.Generation.BosTokenId);
        Assert.Equal(0.7, folder.Generation.Temperature);
        Assert.Equal(20, folder.Generation.TopK);
    }

    [Fact]
    public void Load_NoGenerationConfig_TakesEosFromTokenizerConfigBeforeConfigJson()
    {
        WriteFolder(ModelFamily.Qwen3Moe);

        var folder = ModelFolder.Load(_dir);

        // tokenizer_config.json names <|im_end|> (511); config.json names <|endoftext|> (509).
        Assert.Equal([511], folder.EosTokenIds);
    }

    [Fact]
    public void Load_OnlyConfigJson_TakesBosAndEosFromIt()
    {
        WriteFolder(ModelFamily.Mixtral, tokenizer: false);

        var folder = ModelFolder.Load(_dir);

        Assert.Equal(1, folder.Generation.BosTokenId);
        Assert.Equal([2], folder.EosTokenIds);
        Assert.False(folder.HasTokenizer);
        var error = Assert.Throws<ModelFormatException>(() => folder.Tokenizer);
        Assert.Contains("tokenizer.json: not found", error.Message);
    }

    [Fact]
    public void EncodeChat_Mixtral_StartsWithOneBos()
    {
        WriteFolder(ModelFamily.Mixtral);
        var folder = ModelFolder.Load(_dir);

        var ids = folder.EncodeChat([new("user", "Hi!")]);

        Assert.Equal(1, ids[0]);
        Assert.NotEqual(1, ids[1]);
        Assert.Equal("[INST] Hi! [/INST]", folder.Tokenizer.Decode(ids));
    }

    [Fact]
    public void Load_TokenizerConfigNamesUnknownEosToken_NamesFileAndToken()
    {
        WriteFolder(ModelFamily.Mixtral);
        Write(TokenizerFiles.TokenizerConfigFileName, JsonNode.Parse("""{"eos_token":{"content":"<|eot|>"}}""")!);

        var error = Assert.Throws<ModelFormatException>(() => ModelFolder.Load(_dir));

        Assert.Contains("tokenizer_config.json: eos_token \"<|eot|>\" is not a token of tokenizer.json", error.Message);
    }

    [Fact]
    public void Load_TokenizerLargerThanTheEmbedding_IsRejected()
    {
        var config = WriteFolder(ModelFamily.Mixtral);
        Write("config.json", (config with { VocabSize = 300 }).ToJson());

        var error = Assert.Throws<ModelFormatException>(() => ModelFolder.Load(_dir));

        Assert.Contains("the tokenizer has 512 tokens but config.json's vocab_size is 300", error.Message);
    }

    [Fact]
    public void Load_EosOutsideTheVocabulary_IsRejected()
    {
        WriteFolder(ModelFamily.Mixtral, tokenizer: false);
        Write(GenerationConfig.FileName, JsonNode.Parse("""{"eos_token_id":[2,600]}""")!);

        var error = Assert.Throws<ModelFormatException>(() => ModelFolder.Load(_dir));

        Assert.Contains("special token id 600", error.Message);
        Assert.Contains("outside vocab_size 512", error.Message);
    }

    [Fact]
    public void Load_MissingFolder_SaysSo()
    {
        var error = Assert.Throws<ModelFormatException>(() => ModelFolder.Load(Path.Combine(_dir, "nope")));

        Assert.Contains("model folder not found", error.Message);
    }
}
