namespace MoeDapr.Router.Tests.Functional;

public sealed class ServedNamesTests : IDisposable
{
    private static readonly string[] Names = ["qwen-moe", "team/alias"];
    private readonly RouterClient _router = new(new RouterFactory(servedNames: Names));

    public void Dispose() => _router.Dispose();

    private Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string path, string json) => _router.PostAsync(path, json);

    [Fact]
    public async Task ListModels_SeveralServedNames_ListsEachWithItsLimitsAndRoot()
    {
        var body = await _router.Http.GetFromJsonAsync<JsonNode>("/v1/models");

        var cards = body!["data"]!.AsArray();
        Assert.Equal(Names, cards.Select(c => (string)c!["id"]!));
        Assert.All(cards, card =>
        {
            Assert.Equal("model", (string)card!["object"]!);
            Assert.Equal(RouterFactory.ContextLength, (int)card["max_model_len"]!);
            Assert.Equal("moedapr", (string)card["owned_by"]!);
            Assert.Equal(RouterFactory.ModelName, (string)card["root"]!);
            Assert.Equal(0L, (long)card["created"]!); // the fake model was created at the Unix epoch
        });
    }

    [Theory]
    [InlineData("qwen-moe")]
    [InlineData("team/alias")]
    public async Task CreateCompletion_AnyServedName_AnswersUnderTheNameAsked(string name)
    {
        var (status, body) = await PostAsync("/v1/completions", $$"""{"model":"{{name}}","prompt":"hi","max_tokens":2}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(name, (string)body["model"]!);
    }

    [Theory]
    [InlineData("/v1/completions", """{"model":"test-moe","prompt":"hi"}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/tokenize", """{"model":"QWEN-MOE","prompt":"hi"}""")]
    public async Task Post_UnknownModel_Answers404InVllmShape(string path, string json)
    {
        var (status, body) = await PostAsync(path, json);

        Assert.Equal(HttpStatusCode.NotFound, status);
        var error = body["error"]!;
        var requested = (string)JsonNode.Parse(json)!["model"]!;
        Assert.Equal($"The model `{requested}` does not exist.", (string)error["message"]!);
        Assert.Equal("NotFoundError", (string)error["type"]!);
        Assert.Equal("model", (string)error["param"]!);
        Assert.Equal("model_not_found", (string)error["code"]!);
        Assert.Empty(_router.Factory.Workers.DecodeCalls);
    }
}
