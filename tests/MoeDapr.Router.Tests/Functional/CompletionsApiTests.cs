using System.Text.Json;

namespace MoeDapr.Router.Tests.Functional;

public sealed class CompletionsApiTests : IDisposable
{
    private readonly RouterFactory _factory = new();
    private readonly HttpClient _client;

    public CompletionsApiTests()
    {
        _client = _factory.CreateClient();
        _factory.AnnounceDefaultWorkers();
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<(HttpStatusCode Status, JsonNode Body)> PostAsync(string path, string json)
    {
        using var response = await _client.PostAsync(path, Json(json));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task CreateCompletion_LongPrompt_GoesThroughPrefillAndDecodeWithOpenAiShape()
    {
        var prompt = new string('x', 100);

        var (status, body) = await PostAsync("/v1/completions", $$"""{"model":"test-moe","prompt":"{{prompt}}","max_tokens":12,"temperature":0}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("cmpl-", (string)body["id"]!);
        Assert.Equal("text_completion", (string)body["object"]!);
        Assert.Equal("test-moe", (string)body["model"]!);
        var choice = body["choices"]![0]!;
        Assert.Equal(_factory.Workers.Script[..12], (string)choice["text"]!);
        Assert.Equal("length", (string)choice["finish_reason"]!);
        Assert.Null(choice["logprobs"]);
        Assert.Equal(101, (int)body["usage"]!["prompt_tokens"]!); // BOS + 100
        Assert.Equal(12, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal(113, (int)body["usage"]!["total_tokens"]!);
        var (prefillApp, prefill) = Assert.Single(_factory.Workers.PrefillCalls);
        Assert.Equal(AppIds.Prefill, prefillApp);
        var decode = Assert.Single(_factory.Workers.DecodeCalls).Request;
        Assert.Equal($"kv-{prefill.Sequences[0].RequestId}", decode.KvHandle);
        Assert.Equal(0f, decode.Sampling.Temperature);
    }

    [Fact]
    public async Task CreateCompletion_TokenIdPromptWithReturnTokenIds_EchoesIds()
    {
        var ids = FakeTokenizer.Ids(new string('y', 40));

        var (status, body) = await PostAsync("/v1/completions",
            $$"""{"model":"test-moe","prompt":[{{string.Join(',', ids)}}],"max_tokens":3,"return_token_ids":true}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var choice = body["choices"]![0]!;
        Assert.Equal(ids, choice["prompt_token_ids"]!.AsArray().Select(n => (int)n!));
        Assert.Equal(Enumerable.Range(0, 3).Select(_factory.Workers.Token), choice["token_ids"]!.AsArray().Select(n => (int)n!));
    }

    [Fact]
    public async Task CreateCompletion_ShortPrompt_PrefillsOnDecode()
    {
        var (status, body) = await PostAsync("/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":4}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(_factory.Workers.Script[..4], (string)body["choices"]![0]!["text"]!);
        Assert.Empty(_factory.Workers.PrefillCalls);
        Assert.True(Assert.Single(_factory.Workers.DecodeCalls).Request.IsLocalPrefill);
        await Poll.UntilAsync(() => _factory.Completions.Any(c => c.Path == ServingPaths.LocalPrefill), "a local-prefill completion record");
    }

    [Fact]
    public async Task CreateCompletion_StopString_TruncatesTextAndEndsTheDecodeCall()
    {
        _factory.Workers.Script = "one two three four five six seven eight nine ten ";

        var (status, body) = await PostAsync("/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":40,"stop":[" three"]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("one two", (string)body["choices"]![0]!["text"]!);
        Assert.Equal("stop", (string)body["choices"]![0]!["finish_reason"]!);
        Assert.True((int)body["usage"]!["completion_tokens"]! < 40);
        await Poll.UntilAsync(() => !_factory.Workers.CancelledDecodes.IsEmpty, "the decode call to be closed");
    }

    [Fact]
    public async Task CreateCompletion_EosFromDecode_FinishesWithStop()
    {
        _factory.Workers.EosAt = 5;

        var (_, body) = await PostAsync("/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":40}""");

        Assert.Equal("stop", (string)body["choices"]![0]!["finish_reason"]!);
        Assert.Equal(_factory.Workers.Script[..5], (string)body["choices"]![0]!["text"]!);
        Assert.Equal(6, (int)body["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task CreateCompletion_Logprobs_ReturnsParallelArrays()
    {
        var (_, body) = await PostAsync("/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":3,"logprobs":2}""");

        var logprobs = body["choices"]![0]!["logprobs"]!;
        Assert.Equal(3, logprobs["tokens"]!.AsArray().Count);
        Assert.Equal(-0.5, (double)logprobs["token_logprobs"]![0]!);
        Assert.Equal(2, logprobs["top_logprobs"]![0]!.AsObject().Count);
        Assert.Equal([0, 1, 2], logprobs["text_offset"]!.AsArray().Select(n => (int)n!));
    }

    [Fact]
    public async Task CreateChatCompletion_Messages_RendersTemplateAndAnswersAsAssistant()
    {
        var (status, body) = await PostAsync("/v1/chat/completions",
            """{"model":"test-moe","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there, how are you doing today?"}],"max_tokens":5,"logprobs":true,"top_logprobs":1}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("chatcmpl-", (string)body["id"]!);
        Assert.Equal("chat.completion", (string)body["object"]!);
        var choice = body["choices"]![0]!;
        Assert.Equal("assistant", (string)choice["message"]!["role"]!);
        Assert.Equal(_factory.Workers.Script[..5], (string)choice["message"]!["content"]!);
        Assert.Equal(5, choice["logprobs"]!["content"]!.AsArray().Count);
        Assert.Single(choice["logprobs"]!["content"]![0]!["top_logprobs"]!.AsArray());
        var expectedPrompt = new FakeChatTemplate().Render([new("system", "be brief"), new("user", "hello there, how are you doing today?")]);
        Assert.Equal(FakeTokenizer.Ids(expectedPrompt), Assert.Single(_factory.Workers.PrefillCalls).Request.Sequences[0].PromptTokenIds);
    }

    [Fact]
    public async Task ListModels_Always_ListsTheServedModel()
    {
        var body = await _client.GetFromJsonAsync<JsonNode>("/v1/models");

        Assert.Equal("list", (string)body!["object"]!);
        Assert.Equal("test-moe", (string)body["data"]![0]!["id"]!);
        Assert.Equal(RouterFactory.ContextLength, (int)body["data"]![0]!["max_model_len"]!);
    }

    public static TheoryData<string, string, string?, string?> InvalidRequests => new()
    {
        { "/v1/completions", """{"model":"test-moe","prompt":"hi",""", null, "invalid_json" },
        { "/v1/completions", """["not","an","object"]""", null, "invalid_type" },
        { "/v1/completions", """{"prompt":"hi"}""", "model", "missing_required_parameter" },
        { "/v1/completions", """{"model":"test-moe"}""", "prompt", "missing_required_parameter" },
        { "/v1/completions", """{"model":"test-moe","prompt":""}""", "prompt", null },
        { "/v1/completions", """{"model":"test-moe","prompt":[]}""", "prompt", null },
        { "/v1/completions", """{"model":"test-moe","prompt":42}""", "prompt", "invalid_type" },
        { "/v1/completions", """{"model":"test-moe","prompt":[1,2,100000]}""", "prompt", null },
        { "/v1/completions", """{"model":"test-moe","prompt":["a","b"]}""", "prompt", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":0}""", "max_tokens", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":"ten"}""", "max_tokens", "invalid_type" },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":600}""", "prompt", "context_length_exceeded" },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","temperature":2.5}""", "temperature", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","temperature":"hot"}""", "temperature", "invalid_type" },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","top_p":0}""", "top_p", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","top_p":1.5}""", "top_p", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","presence_penalty":3}""", "presence_penalty", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","frequency_penalty":-2.5}""", "frequency_penalty", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","logprobs":21}""", "logprobs", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","n":2}""", "n", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","seed":1.5}""", "seed", "invalid_type" },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","stop":[1]}""", "stop[0]", "invalid_type" },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","stop":""}""", "stop", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","stream":"yes"}""", "stream", "invalid_type" },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","stream_options":{"include_usage":true}}""", "stream_options", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","priority":"urgent"}""", "priority", null },
        { "/v1/completions", """{"model":"test-moe","prompt":"hi","user":5}""", "user", "invalid_type" },
        { "/v1/chat/completions", """{"model":"test-moe"}""", "messages", "missing_required_parameter" },
        { "/v1/chat/completions", """{"model":"test-moe","messages":[]}""", "messages", null },
        { "/v1/chat/completions", """{"model":"test-moe","messages":"hi"}""", "messages", "invalid_type" },
        { "/v1/chat/completions", """{"model":"test-moe","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role", null },
        { "/v1/chat/completions", """{"model":"test-moe","messages":[{"role":"assistant","content":"hi"}]}""", "messages", null },
        { "/v1/chat/completions", """{"model":"test-moe","messages":[{"role":"user"}]}""", "messages[0].content", "missing_required_parameter" },
        { "/v1/chat/completions", """{"model":"test-moe","messages":[{"role":"user","content":[{"type":"image_url"}]}]}""", "messages[0].content[0]", null },
        { "/v1/chat/completions", """{"model":"test-moe","messages":[{"role":"user","content":"hi"}],"top_logprobs":2}""", "top_logprobs", null },
        { "/v1/chat/completions", """{"model":"test-moe","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":-1}""", "max_completion_tokens", null },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Create_InvalidRequest_Answers400WithOpenAiErrorBody(string path, string json, string? param, string? code)
    {
        var (status, body) = await PostAsync(path, json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body["error"]!.AsObject();
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.False(string.IsNullOrWhiteSpace((string)error["message"]!));
        Assert.True(error.ContainsKey("param") && error.ContainsKey("code"), "param and code are always present");
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal(code, (string?)error["code"]);
        Assert.Empty(_factory.Workers.DecodeCalls);
    }

    [Fact]
    public async Task CreateCompletion_InvalidPriorityHeader_Answers400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Json("""{"model":"test-moe","prompt":"hi"}""") };
        request.Headers.Add(MoeDaprHeaders.Priority, "asap");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(MoeDaprHeaders.Priority, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("\"high\"", null, RequestPriority.High)]
    [InlineData("-1", null, RequestPriority.High)] // vLLM's integer priority: lower runs earlier
    [InlineData("0", null, RequestPriority.Normal)]
    [InlineData("5", null, RequestPriority.Low)]
    [InlineData(null, "low", RequestPriority.Low)]
    [InlineData("\"normal\"", "low", RequestPriority.Normal)] // the body field wins over the header
    public async Task CreateCompletion_Priority_FromFieldOrHeaderReachesTheWorkers(string? field, string? header, RequestPriority expected)
    {
        var json = field is null ? """{"model":"test-moe","prompt":"hi","max_tokens":2}""" : $$"""{"model":"test-moe","prompt":"hi","max_tokens":2,"priority":{{field}}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = Json(json) };
        if (header is not null)
        {
            request.Headers.Add(MoeDaprHeaders.Priority, header);
        }

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, Assert.Single(_factory.Workers.DecodeCalls).Request.Priority);
    }

    [Fact]
    public async Task CreateCompletion_NullOptionalFields_UseDefaults()
    {
        var (status, body) = await PostAsync("/v1/completions",
            """{"model":"test-moe","prompt":"hi","max_tokens":null,"temperature":null,"stop":null,"seed":null,"user":"u1"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(16, (int)body["usage"]!["completion_tokens"]!);
    }
}
