using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using MoeDapr.Contracts;
using MoeDapr.Router.Access;
using MoeDapr.Router.Tests.Infrastructure;

namespace MoeDapr.Router.Tests.Functional;

public sealed class ClientAuthTests : IDisposable
{
    private const string TeamKey = "sk-team-0123456789abcdef";
    private const string BatchKey = "sk-batch-0123456789abcdef";
    private const string VipKey = "sk-vip-0123456789abcdefgh";
    private readonly ManualTimeProvider _time = new();
    private readonly RouterFactory _factory;
    private readonly HttpClient _client;

    public ClientAuthTests()
    {
        _factory = new RouterFactory(new Dictionary<string, string?>
        {
            ["Router:ApiKeys:0:Key"] = TeamKey,
            ["Router:ApiKeys:0:Name"] = "team",
            ["Router:ApiKeys:0:RequestsPerSecond"] = "1",
            ["Router:ApiKeys:0:Burst"] = "2",
            ["Router:ApiKeys:1:Key"] = BatchKey,
            ["Router:ApiKeys:1:Name"] = "batch",
            ["Router:ApiKeys:1:Priority"] = "low",
            ["Router:ApiKeys:2:Key"] = VipKey,
            ["Router:ApiKeys:2:Name"] = "vip",
            ["Router:ApiKeys:2:Priority"] = "high",
        })
        {
            ConfigureServices = services => services.AddSingleton(new ApiKeyRateLimiter(_time)),
        };
        _client = _factory.CreateClient();
        _factory.AnnounceDefaultWorkers();
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer sk-wrong-0123456789abcdef")]
    [InlineData("Bearer " + TeamKey + "x")]
    [InlineData("Basic " + TeamKey)]
    [InlineData("Bearer ")]
    public async Task Create_WithoutTheRightKey_Answers401InOpenAiShapeAndReachesNoWorker(string? authorization)
    {
        var (status, error, response) = await PostAsync(authorization, """{"model":"test-moe","prompt":"hi","max_tokens":2}""");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal("invalid_api_key", (string?)error["code"]);
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        Assert.DoesNotContain(TeamKey, (string)error["message"]!);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Empty(_factory.Workers.DecodeCalls);
    }

    [Theory]
    [InlineData("Bearer " + TeamKey)]
    [InlineData("bearer " + TeamKey)]
    public async Task Create_WithAConfiguredKey_IsServed(string authorization)
    {
        var (status, _, _) = await PostAsync(authorization, """{"model":"test-moe","prompt":"hi","max_tokens":2}""");

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Models_WithoutKey_Answers401()
    {
        using var response = await _client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    [InlineData("/dapr/subscribe")]
    public async Task ProbesAndMetrics_WithoutKey_StayOpen(string path)
    {
        using var response = await _client.GetAsync(path);

        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode}");
    }

    [Fact]
    public async Task Create_KeyBeyondItsBurst_Answers429WithRetryAfterUntilTheBucketRefills()
    {
        const string body = """{"model":"test-moe","prompt":"hi","max_tokens":1}""";
        var first = await PostAsync("Bearer " + TeamKey, body);
        var second = await PostAsync("Bearer " + TeamKey, body);
        var third = await PostAsync("Bearer " + TeamKey, body);
        var otherKey = await PostAsync("Bearer " + BatchKey, body);
        _time.Advance(TimeSpan.FromSeconds(1));
        var afterRefill = await PostAsync("Bearer " + TeamKey, body);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.Status);
        Assert.Equal("rate_limit_exceeded", (string?)third.Error["code"]);
        Assert.Equal(TimeSpan.FromSeconds(1), third.Response.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, otherKey.Status); // buckets are per key
        Assert.Equal(HttpStatusCode.OK, afterRefill.Status);
    }

    [Theory]
    [InlineData(BatchKey, null, RequestPriority.Low)]
    [InlineData(BatchKey, "high", RequestPriority.Low)]
    [InlineData(TeamKey, "high", RequestPriority.Normal)]
    [InlineData(TeamKey, "low", RequestPriority.Low)]
    [InlineData(VipKey, null, RequestPriority.High)]
    [InlineData(VipKey, "normal", RequestPriority.Normal)]
    public async Task Create_KeyPriorityClass_CapsTheRequestsClass(string key, string? asked, RequestPriority expected)
    {
        var field = asked is null ? string.Empty : $$""","priority":"{{asked}}" """;
        var (status, _, _) = await PostAsync("Bearer " + key, $$"""{"model":"test-moe","prompt":"hi","max_tokens":2{{field}}}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected, Assert.Single(_factory.Workers.DecodeCalls).Request.Priority);
    }

    [Fact]
    public async Task Create_KeyPriorityClass_AlsoCapsThePriorityHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"model":"test-moe","prompt":"hi","max_tokens":2}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse("Bearer " + BatchKey);
        request.Headers.Add(MoeDaprHeaders.Priority, "high");

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(RequestPriority.Low, Assert.Single(_factory.Workers.DecodeCalls).Request.Priority);
    }

    [Theory]
    [InlineData("POST", "/tokenize", "{\"prompt\":\"hi\"}")]
    [InlineData("POST", "/detokenize", "{\"tokens\":[1,2]}")]
    [InlineData("GET", "/version", null)]
    [InlineData("GET", "/v1/models", null)]
    public async Task OtherClientRoutes_WithoutAKey_Answer401AndWithOneAnswer200(string method, string path, string? json)
    {
        async Task<HttpStatusCode> SendAsync(string? authorization)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (json is not null)
            {
                request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            }

            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            using var response = await _client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(null));
        Assert.Equal(HttpStatusCode.OK, await SendAsync("Bearer " + VipKey));
    }

    private async Task<(HttpStatusCode Status, JsonNode Error, HttpResponseMessage Response)> PostAsync(string? authorization, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await _client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return (response.StatusCode, body["error"] ?? body, response);
    }
}
