namespace MoeDapr.Router.Tests.Functional;

public sealed class StreamingTests : IDisposable
{
    private readonly RouterFactory _factory = new();
    private readonly HttpClient _client;

    public StreamingTests()
    {
        _client = _factory.CreateClient();
        _factory.AnnounceDefaultWorkers();
    }

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private async Task<List<string>> StreamAsync(string path, string json)
    {
        using var response = await _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n\n", text);
        return text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e =>
        {
            Assert.StartsWith("data: ", e);
            return e["data: ".Length..];
        }).ToList();
    }

    [Fact]
    public async Task CreateCompletion_Stream_ChunksCarryTheTextAndEndWithDone()
    {
        var events = await StreamAsync("/v1/completions", $$"""{"model":"test-moe","prompt":"{{new string('a', 60)}}","max_tokens":10,"stream":true}""");

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("text_completion", (string)c["object"]!));
        Assert.Single(chunks.Select(c => (string)c["id"]!).Distinct());
        Assert.Equal(_factory.Workers.Script[..10], string.Concat(chunks.Select(c => (string)c["choices"]![0]!["text"]!)));
        Assert.All(chunks[..^1], c => Assert.Null(c["choices"]![0]!["finish_reason"]));
        Assert.Equal("length", (string)chunks[^1]["choices"]![0]!["finish_reason"]!);
        Assert.All(chunks, c => Assert.False(c.AsObject().ContainsKey("usage")));
    }

    [Fact]
    public async Task CreateCompletion_StreamWithIncludeUsage_LastChunkHasUsageAndNoChoices()
    {
        var events = await StreamAsync("/v1/completions",
            """{"model":"test-moe","prompt":"hi","max_tokens":4,"stream":true,"stream_options":{"include_usage":true},"return_token_ids":true}""");

        var usageChunk = JsonNode.Parse(events[^2])!;
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(4, (int)usageChunk["usage"]!["completion_tokens"]!);
        var tokenChunks = events[..^2].Select(e => JsonNode.Parse(e)!).Where(c => c["choices"]![0]!["token_ids"]!.AsArray().Count > 0).ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(_factory.Workers.Token), tokenChunks.SelectMany(c => c["choices"]![0]!["token_ids"]!.AsArray().Select(n => (int)n!)));
    }

    [Fact]
    public async Task CreateChatCompletion_Stream_OpensWithRoleThenContentThenEmptyDelta()
    {
        var events = await StreamAsync("/v1/chat/completions",
            """{"model":"test-moe","messages":[{"role":"user","content":"a question long enough for remote prefill"}],"max_tokens":6,"stream":true}""");

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", (string)c["object"]!));
        Assert.Equal("assistant", (string)chunks[0]["choices"]![0]!["delta"]!["role"]!);
        Assert.Equal(_factory.Workers.Script[..6], string.Concat(chunks.Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? string.Empty)));
        Assert.Empty(chunks[^1]["choices"]![0]!["delta"]!.AsObject());
        Assert.Equal("length", (string)chunks[^1]["choices"]![0]!["finish_reason"]!);
    }

    [Fact]
    public async Task CreateCompletion_StreamBreaksMidway_SendsErrorEventThenDone()
    {
        _factory.Workers.BreakDecodeAfter = 3;

        var events = await StreamAsync("/v1/completions", """{"model":"test-moe","prompt":"hi","max_tokens":20,"stream":true}""");

        Assert.Equal("[DONE]", events[^1]);
        var error = JsonNode.Parse(events[^2])!["error"]!;
        Assert.Equal("server_error", (string)error["type"]!);
    }

    [Fact]
    public async Task CreateCompletion_StreamDecodeFailsAfterFirstToken_RetriedWithTheSameFirstTokenAndText()
    {
        // "decode" looks idle but fails; "decode-2" looks busier, so it is only the retry.
        _factory.Announce("decode-2", MoeDapr.Contracts.WorkerRole.Decode, running: 30);
        _factory.Workers.FailingDecode.Add(MoeDapr.Contracts.AppIds.Decode);

        var events = await StreamAsync("/v1/completions", $$"""{"model":"test-moe","prompt":"{{new string('r', 60)}}","max_tokens":8,"stream":true}""");

        var text = string.Concat(events[..^1].Select(e => (string?)JsonNode.Parse(e)!["choices"]![0]!["text"] ?? string.Empty));
        Assert.Equal(_factory.Workers.Script[..8], text);
        var calls = _factory.Workers.DecodeCalls.ToArray();
        Assert.Equal([MoeDapr.Contracts.AppIds.Decode, "decode-2"], calls.Select(c => c.AppId));
        Assert.NotNull(calls[1].Request.FirstToken);
        Assert.Null(calls[1].Request.KvHandle); // the retry prefills locally but keeps the token the client already has
    }

    [Fact]
    public async Task CreateCompletion_StreamWithRemotePrefill_FirstTokenReachesTheClientBeforeDecodeProducesAny()
    {
        _factory.Workers.DecodeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent($$"""{"model":"test-moe","prompt":"{{new string('f', 60)}}","max_tokens":5,"stream":true}""", Encoding.UTF8, "application/json"),
        };
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(_factory.Workers.Script[..1], (string)JsonNode.Parse(first!["data: ".Length..])!["choices"]![0]!["text"]!);
        _factory.Workers.DecodeGate.SetResult();
        var rest = await reader.ReadToEndAsync();
        Assert.EndsWith("data: [DONE]\n\n", rest);
    }

    [Fact]
    public async Task CreateCompletion_ClientDisconnectsMidStream_CancelsTheDecodeCall()
    {
        _factory.Workers.TokenDelay = TimeSpan.FromMilliseconds(50);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"model":"test-moe","prompt":"hi","max_tokens":400,"stream":true}""", Encoding.UTF8, "application/json"),
        };
        using var cts = new CancellationTokenSource();
        var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        var body = await response.Content.ReadAsStreamAsync(cts.Token);
        var buffer = new byte[64];
        Assert.True(await body.ReadAsync(buffer, cts.Token) > 0); // the first chunk arrived

        await cts.CancelAsync();
        response.Dispose();

        await Poll.UntilAsync(() => !_factory.Workers.CancelledDecodes.IsEmpty, "the decode call to be cancelled");
        await Poll.UntilAsync(() => _factory.Registry.List().All(w => w.InFlight == 0), "no call left in flight");
        Assert.Single(_factory.Workers.DecodeCalls);
    }
}
