using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using MoeDapr.Router.Tests.Infrastructure;

namespace MoeDapr.Router.Tests.Functional;

public sealed class HostileInputTests : IDisposable
{
    private const int BodyLimit = 4096;
    private readonly RouterFactory _factory = new(new Dictionary<string, string?>
    {
        ["Router:Limits:MaxRequestBodyBytes"] = BodyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Router:Limits:MaxStopStrings"] = "4",
        ["Router:Limits:MaxStopStringLength"] = "8",
        ["Router:Limits:MaxStopTokenIds"] = "3",
        ["Router:Limits:MaxLogitBiasEntries"] = "2",
    });

    private readonly HttpClient _client;

    public HostileInputTests()
    {
        _client = _factory.CreateClient();
        _factory.AnnounceDefaultWorkers();
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    /// <summary>Bodies as raw bytes: some are not UTF-8 on purpose.</summary>
    public static TheoryData<string, byte[], string?, string?> BadBodies => new()
    {
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","max_tokens":2147483647}"""), "prompt", "context_length_exceeded" },
        { "/v1/chat/completions", Utf8("""{"model":"test-moe","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":2147483647}"""), "messages", "context_length_exceeded" },
        { "/v1/chat/completions", Utf8("""{"model":"test-moe","messages":[{"role":"user","content":"hi"}],"max_tokens":2147483647}"""), "messages", "context_length_exceeded" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"Hi \ud800 x"}"""), "prompt", "invalid_text" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"Hi \udc00\ud800 x"}"""), "prompt", "invalid_text" },
        { "/v1/chat/completions", Utf8("""{"model":"test-moe","messages":[{"role":"user","content":"a \ud83d"}]}"""), "messages[0].content", "invalid_text" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","stop":["\udfff"]}"""), "stop[0]", "invalid_text" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","user":"\ud800"}"""), "user", "invalid_text" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","priority":"\ud800"}"""), "priority", "invalid_text" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","\ud800":1}"""), null, "invalid_text" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","logit_bias":{"\ud800":1}}"""), "logit_bias", "invalid_text" },
        { "/v1/completions", [.. Utf8("""{"model":"test-moe","prompt":"a"""), 0xC3, 0x28, .. Utf8("\"}")], "prompt", "invalid_text" },
        { "/v1/completions", [.. Utf8("""{"model":"test-moe","prompt":"a"""), 0xED, 0xA0, 0x80, .. Utf8("\"}")], "prompt", "invalid_text" },
        { "/v1/completions", [0xFF, 0xFE, 0x00, 0x7B], null, null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","stop":["a","b","c","d","e"]}"""), "stop", null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","stop":["short","far too long"]}"""), "stop[1]", null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","stop":"far too long"}"""), "stop[0]", null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","stop_token_ids":[1,2,3,4]}"""), "stop_token_ids", null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","logit_bias":{"1":1,"2":1,"3":1}}"""), "logit_bias", null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","logit_bias":{"1":101}}"""), "logit_bias", null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","logit_bias":{"-1":1}}"""), "logit_bias", null },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","logit_bias":[1]}"""), "logit_bias", "invalid_type" },
        { "/v1/completions", Utf8($$"""{"model":"test-moe","prompt":[{{string.Join(',', Enumerable.Repeat(5, RouterFactory.ContextLength + 1))}}]}"""), "prompt", "context_length_exceeded" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","max_tokens":1e300}"""), "max_tokens", "invalid_type" },
        { "/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","seed":99999999999999999999999}"""), "seed", "invalid_type" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Create_HostileBody_Answers400NamingTheField(string path, byte[] body, string? param, string? code)
    {
        var (status, error) = await PostAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_request_error", (string)error["type"]!);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        Assert.Equal(param, (string?)error["param"]);
        if (code is not null)
        {
            Assert.Equal(code, (string?)error["code"]);
        }
    }

    [Fact]
    public async Task CreateCompletion_MaxTokensNearIntMax_MessageNamesMaxTokensAndTheRealSum()
    {
        var (_, error) = await PostAsync("/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","max_tokens":2147483647}"""));

        var message = (string)error["message"]!;
        Assert.Contains("max_tokens", message);
        Assert.Contains(((long)int.MaxValue + 3).ToString(System.Globalization.CultureInfo.InvariantCulture), message); // BOS + "hi" + max_tokens, no wrap-around
    }

    [Fact]
    public async Task Create_BodyAboveTheLimit_Answers413WithAnOpenAiError()
    {
        var big = Utf8($$"""{"model":"test-moe","prompt":"{{new string('x', BodyLimit)}}"}""");

        var (declared, declaredError) = await PostAsync("/v1/completions", big);
        using var chunked = new StreamContent(new MemoryStream(big)); // no Content-Length: the limit holds while reading
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync("/v1/completions", chunked);
        var chunkedError = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared);
        Assert.Equal("request_too_large", (string?)declaredError["code"]);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("invalid_request_error", (string?)chunkedError["type"]);
    }

    [Fact]
    public async Task Create_BatchOfBadRequests_NeverReachesAWorkerNorCoolsOneDown()
    {
        var answers = new List<HttpStatusCode>();
        foreach (var row in BadBodies)
        {
            answers.Add((await PostAsync((string)row[0], (byte[])row[1])).Status);
        }

        answers.Add((await PostAsync("/v1/completions", Utf8($$"""{"model":"test-moe","prompt":"{{new string('x', BodyLimit)}}"}"""))).Status);

        Assert.All(answers, status => Assert.InRange((int)status, 400, 499));
        Assert.Empty(_factory.Workers.PrefillCalls);
        Assert.Empty(_factory.Workers.DecodeCalls);
        Assert.All(_factory.Registry.List(), worker => Assert.True(worker.Available, $"{worker.AppId} was taken out of rotation"));
        var (ok, _) = await PostAsync("/v1/completions", Utf8("""{"model":"test-moe","prompt":"hi","max_tokens":3}"""));
        Assert.Equal(HttpStatusCode.OK, ok);
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private async Task<(HttpStatusCode Status, JsonNode Error)> PostAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync(path, content);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, json["error"] ?? json);
    }
}
