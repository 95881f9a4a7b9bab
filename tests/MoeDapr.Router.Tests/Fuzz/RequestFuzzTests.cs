using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using MoeDapr.Router.Tests.Infrastructure;

namespace MoeDapr.Router.Tests.Fuzz;

/// <summary>
/// Thousands of generated requests against the router in-process: fields of the OpenAI schema with mutated types and
/// extreme values, broken JSON, huge and empty fields, random bytes. None may get a 5xx, none may take a worker out of
/// rotation, and a well-formed request afterwards answers as before.
/// </summary>
public sealed class RequestFuzzTests : IDisposable
{
    private const int Requests = 3000;

    private static readonly string[] Fields =
    [
        "model", "prompt", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "stop",
        "stop_token_ids", "stream", "stream_options", "seed", "presence_penalty", "frequency_penalty", "n", "best_of", "user",
        "ignore_eos", "priority", "logprobs", "top_logprobs", "echo", "return_token_ids", "logit_bias", "unknown_field",
    ];

    private static readonly Gen<string> Numbers = Gen.OneOf(
        "0", "1", "-1", "4", "16", "511", "512", "2147483647", "2147483648", "-2147483648", "9223372036854775807",
        "99999999999999999999999999", "1e308", "-1e308", "1e-320", "0.5", "1.0", "-0", "3.14e2", "NaN", "Infinity", "01");

    private static readonly Gen<string> Strings = Gen.OneOf(
        "\"\"", "\"hi\"", "\"\\ud800\"", "\"Hi \\ud800 x\"", "\"\\udfff\\ud800\"", "\"\\u0000\"", "\"high\"", "\"low\"",
        "\"test-moe\"", "\"user\"", "\"\\uZZZZ\"", "\"\\\"\"", "\"\u00e9\u4e2d\ud83d\ude00\"");

    private static readonly Gen<string> Structures = Gen.OneOf(
        "true", "false", "null", "[]", "{}", "[1,2,3]", "[\"a\"]", "[[1]]", "[[]]", "{\"a\":1}", "{\"1\":5}", "{\"1\":500}",
        "[{\"role\":\"user\",\"content\":\"hi\"}]", "[{\"role\":\"assistant\",\"content\":\"hi\"}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}]",
        "[{\"role\":\"user\"}]", "[{}]", "{\"include_usage\":true}", "[" + string.Join(',', Enumerable.Repeat("[1]", 40)) + "]",
        new string('[', 200) + new string(']', 200));

    private static readonly Gen<string> AsciiText = Gen.Char['a', 'z'].Array[0, 40].Select(chars => "\"" + new string(chars) + "\"");

    private static readonly Gen<string> HugeText = Gen.Int[1000, 40_000].Select(n => "\"" + new string('x', n) + "\"");

    private static readonly Gen<string> IdArrays = Gen.Int[-5, 200_000].Array[0, 700].Select(ids => "[" + string.Join(',', ids) + "]");

    private static readonly Gen<string> Values = Gen.Frequency(
        (4, Numbers), (3, Strings), (3, Structures), (2, AsciiText), (1, HugeText), (1, IdArrays));

    private static readonly Gen<(string Path, byte[] Body)> Bodies = Gen.Frequency(
        (6, WellFormedWithMutations()),
        (2, WellFormedWithMutations().SelectMany(r => Gen.Int[0, Math.Max(0, r.Body.Length - 1)].Select(cut => (r.Path, r.Body[..cut])))),
        (2, WellFormedWithMutations().SelectMany(r => Gen.Select(Gen.Int[0, Math.Max(0, r.Body.Length - 1)], Gen.Byte, (at, b) => (r.Path, Flip(r.Body, at, b))))),
        (1, Gen.Select(Paths(), Gen.Byte.Array[0, 400], (path, bytes) => (path, bytes))),
        (1, Paths().Select(path => (path, Array.Empty<byte>()))));

    private readonly RouterFactory _factory = new(new Dictionary<string, string?>
    {
        ["Router:Workers:StaleAfter"] = "01:00:00", // the fuzz run outlasts the default freshness of the announced workers
        ["Router:Limits:MaxRequestBodyBytes"] = "65536",
    });

    private readonly HttpClient _client;

    public RequestFuzzTests()
    {
        _client = _factory.CreateClient();
        _factory.AnnounceDefaultWorkers();
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task Create_GeneratedRequests_NeverAnswer5xxNorTakeAWorkerOutOfRotation()
    {
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();

        await Bodies.SampleAsync(
            async request =>
            {
                var (status, text) = await PostAsync(request.Path, request.Body);
                statuses.AddOrUpdate((int)status, 1, (_, n) => n + 1);
                Assert.True((int)status is >= 200 and < 500, $"{(int)status}: {text}");
                if ((int)status >= 400)
                {
                    AssertOpenAiError(text);
                }
            },
            iter: Requests,
            threads: 2,
            print: r => $"{r.Path} {Encoding.UTF8.GetString(r.Body[..Math.Min(r.Body.Length, 400)])}");

        Assert.Equal(Requests, statuses.Values.Sum());
        Assert.True(statuses.Keys.Any(s => s == 200), "no generated request was served: the generator never reached the serving path");
        Assert.All(_factory.Registry.List(), worker => Assert.True(worker.Available, $"{worker.AppId} was taken out of rotation"));
        var (okStatus, okText) = await PostAsync("/v1/completions", Encoding.UTF8.GetBytes("""{"model":"test-moe","prompt":"hi","max_tokens":5}"""));
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal(_factory.Workers.Script[..5], (string?)JsonNode.Parse(okText)!["choices"]![0]!["text"]);
    }

    private static void AssertOpenAiError(string text)
    {
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
    }

    private static Gen<string> Paths() => Gen.OneOf("/v1/completions", "/v1/chat/completions");

    /// <summary>A valid request of either route with up to four fields replaced by generated values (the last duplicate wins).</summary>
    private static Gen<(string Path, byte[] Body)> WellFormedWithMutations() =>
        Gen.Select(Gen.Bool, Gen.Select(Gen.Int[0, Fields.Length - 1], Values).Array[0, 4], (chat, mutations) =>
        {
            var body = new StringBuilder(chat
                ? """{"model":"test-moe","messages":[{"role":"user","content":"hi"}],"max_tokens":4"""
                : """{"model":"test-moe","prompt":"hello there","max_tokens":4""");
            foreach (var (field, value) in mutations)
            {
                body.Append(",\"").Append(Fields[field]).Append("\":").Append(value);
            }

            return (chat ? "/v1/chat/completions" : "/v1/completions", Encoding.UTF8.GetBytes(body.Append('}').ToString()));
        });

    private static byte[] Flip(byte[] body, int at, byte value)
    {
        var copy = body.ToArray();
        if (copy.Length > 0)
        {
            copy[at] = value;
        }

        return copy;
    }

    private async Task<(HttpStatusCode Status, string Text)> PostAsync(string path, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _client.PostAsync(path, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
