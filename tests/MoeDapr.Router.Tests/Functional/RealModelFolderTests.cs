using MoeDapr.Model;
using MoeDapr.Model.Tokenization;

namespace MoeDapr.Router.Tests.Functional;

/// <summary>The router on a real checkpoint folder's config, tokenizer.json and family chat template (no weights needed).</summary>
public sealed class RealModelFolderTests : IClassFixture<RealModelFolderTests.TinyFolder>
{
    private readonly TinyFolder _folder;

    public RealModelFolderTests(TinyFolder folder) => _folder = folder;

    [Fact]
    public async Task CreateChatCompletion_Qwen3Folder_SendsTheTemplatedTokensOfTheRealTokenizer()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Model:Path"] = _folder.Path, ["Model:Name"] = "tiny" }, withModel: false);
        using var client = factory.CreateClient();
        factory.AnnounceDefaultWorkers();
        var question = "What do mixture of experts models route, and why does it matter for serving?";

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
            $$"""{"model":"tiny","messages":[{"role":"user","content":"{{question}}"}],"max_tokens":4,"return_token_ids":true}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = ModelFolder.Load(_folder.Path).EncodeChat([new ChatMessage("user", question)]);
        var sent = factory.Workers.PrefillCalls.Select(c => c.Request.Sequences[0].PromptTokenIds)
            .Concat(factory.Workers.DecodeCalls.Select(c => c.Request.PromptTokenIds)).First();
        Assert.Equal(expected, sent);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(expected, body["choices"]![0]!["prompt_token_ids"]!.AsArray().Select(n => (int)n!));
    }

    [Fact]
    public async Task ListModels_RealFolder_ReportsItsContextLength()
    {
        using var factory = new RouterFactory(new Dictionary<string, string?> { ["Model:Path"] = _folder.Path }, withModel: false);
        using var client = factory.CreateClient();

        var models = await client.GetFromJsonAsync<JsonNode>("/v1/models");

        Assert.Equal(new DirectoryInfo(_folder.Path).Name, (string)models!["data"]![0]!["id"]!);
        Assert.Equal(ModelConfig.Load(_folder.Path).MaxPositionEmbeddings, (int)models["data"]![0]!["max_model_len"]!);
    }

    /// <summary>A tiny qwen3_moe folder: config.json, tokenizer.json and tokenizer_config.json, written once per class.</summary>
    public sealed class TinyFolder : IDisposable
    {
        public TinyFolder()
        {
            Path = Directory.CreateTempSubdirectory("moedapr-router-model").FullName;
            var config = ModelPresets.Create(ModelFamily.Qwen3Moe, ModelPreset.Tiny);
            File.WriteAllText(System.IO.Path.Combine(Path, "config.json"), config.ToJson().ToJsonString());
            var files = GeneratedTokenizer.Create(config);
            File.WriteAllText(System.IO.Path.Combine(Path, HuggingFaceTokenizer.FileName), files.TokenizerJson.ToJsonString());
            File.WriteAllText(System.IO.Path.Combine(Path, TokenizerFiles.TokenizerConfigFileName), files.TokenizerConfig.ToJsonString());
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
