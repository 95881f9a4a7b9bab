using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MoeDapr.EndToEnd.Tests.Infrastructure;

namespace MoeDapr.EndToEnd.Tests.Router;

/// <summary>The OpenAI API of the router, served through the whole disaggregated path as <c>moedapr up</c> runs it.</summary>
public sealed class OpenAiApiTests(FullStackFixture stack) : IClassFixture<FullStackFixture>
{
    private static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => ((i * 29) + (salt * 11) + 5) % 500).ToArray();

    [Theory]
    [InlineData(12)] // short: the router may prefill on decode
    [InlineData(70)] // long: prefill worker, kv-transfer, decode
    public async Task Completions_GreedyTokenIds_EqualInProcessEngine(int promptLength)
    {
        var prompt = Prompt(promptLength, promptLength);
        var expected = await stack.ReferenceGreedyAsync(prompt, 12);

        var choice = await CompleteAsync(prompt, 12);

        Assert.Equal(expected, choice["token_ids"]!.AsArray().Select(t => t!.GetValue<int>()));
    }

    [Fact]
    public async Task Completions_Greedy_EqualsMoedaprGenerateTokenForToken()
    {
        var prompt = Prompt(64, 9);
        var root = ServiceBinaries.FindRepositoryRoot(AppContext.BaseDirectory)!;
        var cli = Path.Combine(root, "tools", "moedapr", "bin", ServiceBinaries.CurrentConfiguration(), "net10.0", "moedapr.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in (string[])[cli, "generate", "--model", stack.ModelDir, "--tokens", string.Join(',', prompt), "--max-tokens", "12"])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, process.ExitCode);
        var generated = JsonNode.Parse(output.Trim().Split('\n')[^1])!["tokens"]!.AsArray().Select(t => t!.GetValue<int>()).ToArray();

        var choice = await CompleteAsync(prompt, 12);

        Assert.Equal(generated, choice["token_ids"]!.AsArray().Select(t => t!.GetValue<int>()));
    }

    [Fact]
    public async Task Completions_ThirtyTwoConcurrentRequests_AllEqualInProcessEngine()
    {
        var prompts = Enumerable.Range(0, 32).Select(i => Prompt(20 + (i * 3 % 50), 300 + i)).ToArray();
        var expected = new List<IReadOnlyList<int>>();
        foreach (var prompt in prompts)
        {
            expected.Add(await stack.ReferenceGreedyAsync(prompt, 8));
        }

        var choices = await Task.WhenAll(prompts.Select(p => CompleteAsync(p, 8)));

        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i], choices[i]["token_ids"]!.AsArray().Select(t => t!.GetValue<int>()));
        }
    }

    [Fact]
    public async Task Completions_Streamed_FirstChunkArrivesWhileDecodeStillRuns_AndHangingUpFreesEverything()
    {
        var prompt = await PromptWithoutEarlyEosAsync(300);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(stack.Router, "v1/completions"))
        {
            Content = Json(new { model = stack.ModelName, prompt, max_tokens = 300, temperature = 0, stream = true }),
        };
        using (var response = await stack.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            string? line;
            do
            {
                line = await reader.ReadLineAsync();
            }
            while (line is not null && !line.StartsWith("data: {", StringComparison.Ordinal));

            Assert.NotNull(line);

            // The first chunk is in our hands (it may be prefill's token, relayed before decode starts); the sequence
            // is still to be generated: decode takes it into its batch after this point.
            var running = Stopwatch.StartNew();
            while ((await stack.DecodeStatsAsync()).Engine.Running != 1)
            {
                Assert.True(running.Elapsed < TimeSpan.FromSeconds(20), "decode never ran the sequence after the first chunk arrived");
                await Task.Delay(20);
            }
        } // hang up mid-stream

        var deadline = Stopwatch.StartNew();
        DecodeStatsView after;
        do
        {
            await Task.Delay(100);
            after = await stack.DecodeStatsAsync();
        }
        while ((after.ActiveCalls != 0 || after.Engine.Running != 0 || after.Engine.KvBlocksUsed != 0) && deadline.Elapsed < TimeSpan.FromSeconds(20));

        Assert.True(after is { ActiveCalls: 0, Engine: { Running: 0, KvBlocksUsed: 0, KvHandles: 0 } }, $"decode still holds the sequence: {after}");
    }

    [Fact]
    public async Task ChatCompletions_AnswersAnAssistantMessageWithUsage()
    {
        using var response = await stack.Http.PostAsync(new Uri(stack.Router, "v1/chat/completions"),
            Json(new { model = stack.ModelName, messages = new[] { new { role = "user", content = "Hello there" } }, max_tokens = 5, temperature = 0 }));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("chat.completion", body["object"]!.GetValue<string>());
        Assert.Equal("assistant", body["choices"]![0]!["message"]!["role"]!.GetValue<string>());
        Assert.True(body["usage"]!["completion_tokens"]!.GetValue<int>() is > 0 and <= 5);
    }

    [Theory]
    [InlineData("{\"model\":\"model\",\"prompt\":\"\",\"max_tokens\":4}", "prompt")]
    [InlineData("{\"model\":\"model\",\"prompt\":\"hi\",\"max_tokens\":0}", "max_tokens")]
    [InlineData("{\"model\":\"model\",\"prompt\":\"hi\",\"temperature\":7}", "temperature")]
    [InlineData("{\"model\":\"model\",\"prompt\":", null)]
    public async Task Completions_InvalidRequest_Gets400WithOpenAiErrorBody(string body, string? param)
    {
        using var response = await stack.Http.PostAsync(new Uri(stack.Router, "v1/completions"), new StringContent(body, Encoding.UTF8, "application/json"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        if (param is not null)
        {
            Assert.Equal(param, error["param"]?.GetValue<string>());
        }
    }

    [Fact]
    public async Task Completions_UnknownModel_Gets404ModelNotFound()
    {
        using var response = await stack.Http.PostAsync(new Uri(stack.Router, "v1/completions"),
            new StringContent("{\"model\":\"no-such-model\",\"prompt\":\"hi\"}", Encoding.UTF8, "application/json"));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("model_not_found", error["code"]?.GetValue<string>());
        Assert.Equal("model", error["param"]?.GetValue<string>());
    }

    private async Task<JsonNode> CompleteAsync(int[] prompt, int maxTokens)
    {
        using var response = await stack.Http.PostAsync(new Uri(stack.Router, "v1/completions"),
            Json(new { model = stack.ModelName, prompt, max_tokens = maxTokens, temperature = 0, return_token_ids = true }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!["choices"]![0]!;
    }

    /// <summary>A prompt whose greedy continuation runs <paramref name="tokens"/> tokens without EOS (random weights may stop early).</summary>
    private async Task<int[]> PromptWithoutEarlyEosAsync(int tokens)
    {
        for (var salt = 0; salt < 20; salt++)
        {
            var prompt = Prompt(40, 700 + salt);
            if ((await stack.ReferenceGreedyAsync(prompt, tokens)).Count == tokens)
            {
                return prompt;
            }
        }

        throw new InvalidOperationException("no prompt found whose greedy output avoids EOS");
    }

    private static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");
}
