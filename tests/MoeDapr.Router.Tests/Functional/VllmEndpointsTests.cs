using MoeDapr.Router.Api;

namespace MoeDapr.Router.Tests.Functional;

/// <summary>vLLM's extra routes (<c>/tokenize</c>, <c>/detokenize</c>, <c>/version</c>, <c>/ping</c>), its error bodies and <c>X-Request-Id</c>.</summary>
public sealed class VllmEndpointsTests : IDisposable
{
    private readonly RouterClient _router = new();

    public void Dispose() => _router.Dispose();

    private static StringContent Json(string json) => RouterClient.Json(json);

    private Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string path, string json) => _router.PostAsync(path, json);

    private static int[] Ints(JsonNode? array) => array!.AsArray().Select(n => (int)n!).ToArray();

    [Theory]
    [InlineData("""{"prompt":"héllo"}""", true)]
    [InlineData("""{"model":"test-moe","prompt":"héllo","add_special_tokens":false}""", false)]
    public async Task Tokenize_Prompt_AnswersTheTokenizersIdsWithCountAndContext(string json, bool bos)
    {
        var (status, body) = await PostAsync("/tokenize", json);

        Assert.Equal(HttpStatusCode.OK, status);
        int[] expected = bos ? [FakeTokenizer.Bos, .. FakeTokenizer.Ids("héllo")] : FakeTokenizer.Ids("héllo");
        Assert.Equal(expected, Ints(body["tokens"]));
        Assert.Equal(expected.Length, (int)body["count"]!);
        Assert.Equal(RouterFactory.ContextLength, (int)body["max_model_len"]!);
        Assert.Null(body["token_strs"]);
    }

    [Theory]
    [InlineData(true, "<user>hi\n<assistant>")]
    [InlineData(false, "<user>hi\n")]
    public async Task Tokenize_Messages_RendersTheChatTemplate(bool addGenerationPrompt, string rendered)
    {
        var (status, body) = await PostAsync("/tokenize",
            $$"""{"messages":[{"role":"user","content":"hi"}],"add_generation_prompt":{{(addGenerationPrompt ? "true" : "false")}}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(FakeTokenizer.Ids(rendered), Ints(body["tokens"]));
    }

    [Fact]
    public async Task Tokenize_ReturnTokenStrs_AnswersOnePiecePerToken()
    {
        var (_, body) = await PostAsync("/tokenize", """{"prompt":"ab","return_token_strs":true}""");

        Assert.Equal(["<s>", "a", "b"], body["token_strs"]!.AsArray().Select(n => (string)n!));
    }

    [Fact]
    public async Task Detokenize_Tokens_AnswersTheirText()
    {
        var (status, body) = await PostAsync("/detokenize", $$"""{"model":"test-moe","tokens":[{{string.Join(',', FakeTokenizer.Ids("round trip"))}}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("round trip", (string)body["prompt"]!);
    }

    [Theory]
    [InlineData("/detokenize", """{"tokens":[1,100000]}""", "tokens")]
    [InlineData("/detokenize", """{}""", "tokens")]
    [InlineData("/tokenize", """{"prompt":5}""", "prompt")]
    [InlineData("/tokenize", """{"messages":[{"role":"wizard","content":"x"}]}""", "messages[0].role")]
    public async Task TokenizeRoutes_InvalidBody_Answer400NamingTheField(string path, string json, string param)
    {
        var (status, body) = await PostAsync(path, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, (string)body["error"]!["param"]!);
    }

    [Fact]
    public async Task Version_Get_AnswersTheServersVersion()
    {
        var body = await _router.Http.GetFromJsonAsync<JsonNode>("/version");

        Assert.Equal(ServerInfoApi.Version, (string)body!["version"]!);
        Assert.Matches(@"^\d+\.\d+", ServerInfoApi.Version);
    }

    [Fact]
    public async Task Ping_GetAndPost_Answer200()
    {
        using var get = await _router.Http.GetAsync("/ping");
        using var post = await _router.Http.PostAsync("/ping", Json("{}"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
    }

    [Fact]
    public async Task UnknownRoute_Answers404WithOpenAiErrorBody()
    {
        using var response = await _router.Http.GetAsync("/v1/embeddings");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Contains("/v1/embeddings", (string)error["message"]!);
        Assert.Equal("NotFoundError", (string)error["type"]!);
    }

    [Fact]
    public async Task WrongMethod_Answers405WithOpenAiErrorBody()
    {
        using var response = await _router.Http.GetAsync("/v1/completions");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("method_not_allowed", (string)error["code"]!);
        Assert.Contains("GET", (string)error["message"]!);
    }

    [Fact]
    public async Task CreateCompletion_ClientRequestId_IsEchoedAndCarriedByTheRecord()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Json("""{"model":"test-moe","prompt":"hi","max_tokens":2}""") };
        request.Headers.Add(RequestIds.Header, "trace-42");

        using var response = await _router.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("trace-42", Assert.Single(response.Headers.GetValues(RequestIds.Header)));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.StartsWith("cmpl-trace-42", (string)body["id"]!);
        await Poll.UntilAsync(() => !_router.Factory.Completions.IsEmpty, "a completion record");
        Assert.StartsWith("cmpl-trace-42", Assert.Single(_router.Factory.Completions).RequestId);
    }

    [Fact]
    public async Task CreateCompletion_SameClientRequestIdTwice_GenerationsStayDistinct()
    {
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Json("""{"model":"test-moe","prompt":"hi","max_tokens":2}""") };
            request.Headers.Add(RequestIds.Header, "reused");
            using var response = await _router.Http.SendAsync(request);
            ids.Add((string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!);
        }

        Assert.NotEqual(ids[0], ids[1]);
    }

    [Fact]
    public async Task AnyRoute_NoRequestId_EchoesAGeneratedOne()
    {
        using var first = await _router.Http.GetAsync("/v1/models");
        using var second = await _router.Http.GetAsync("/v1/models");

        var a = Assert.Single(first.Headers.GetValues(RequestIds.Header));
        var b = Assert.Single(second.Headers.GetValues(RequestIds.Header));
        Assert.False(string.IsNullOrWhiteSpace(a));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public async Task AnyRoute_HostileRequestId_IsSanitisedAndBounded()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation(RequestIds.Header, "<script>" + new string('a', 1000) + " x=\"1\"");

        using var response = await _router.Http.SendAsync(request);

        var echoed = Assert.Single(response.Headers.GetValues(RequestIds.Header));
        Assert.Equal(RequestIds.MaxLength, echoed.Length);
        Assert.Matches("^[A-Za-z0-9._:-]+$", echoed);
        Assert.StartsWith("script", echoed);
    }
}
