using System.Text.Json.Nodes;
using MoeDapr.Engine;
using MoeDapr.Engine.Checkpoint;

namespace MoeDapr.EndToEnd.Tests.Cli;

/// <summary>The trained demo model that <c>moedapr up</c> serves by default writes the same English through the four services as in process.</summary>
public sealed class ShippedModelGoldenTests
{
    private const string ModelName = "kjv-qwen3_moe";
    private const string Prompt = "And God said unto Moses,";
    private const int MaxTokens = 20;

    // Recorded from the shipped checkpoint; a change to the weights, the tokenizer or the engine's arithmetic shows here.
    private const string Expected = " Behold, I will make thee a covenant with thee, and I will make thee a covenant with thee";

    [Fact]
    public async Task GreedyContinuation_ThroughTheServices_EqualsTheInProcessEngineAndTheRecordedText()
    {
        var root = ServiceBinaries.FindRepositoryRoot(AppContext.BaseDirectory) ?? throw new DirectoryNotFoundException("not run from a MoeDapr checkout");
        var model = Path.Combine(root, "models", ModelName);

        string reference;
        using (var checkpoint = CheckpointLoader.Open(model))
        {
            await using var engine = await InferenceEngine.CreateAsync(new EngineOptions { Threads = 1, KvCacheBytes = 16 << 20 }, checkpoint.Config, checkpoint.Weights);
            var ids = new List<int>();
            await foreach (var output in engine.GenerateAsync(new GenerateRequest
            {
                RequestId = "golden", PromptTokens = checkpoint.Tokenizer.Encode(Prompt), Sampling = SamplingParams.Greedy(MaxTokens),
            }))
            {
                if (output.TokenId >= 0)
                {
                    ids.Add(output.TokenId);
                }
            }

            reference = checkpoint.Tokenizer.Decode(ids);
        }

        await using var stack = await LocalStack.StartAsync(new LocalStackOptions
        {
            ModelDir = model,
            Port = ServiceProcess.FreePort(),
            ReadyTimeout = TimeSpan.FromMinutes(2),
            Environment = new Dictionary<string, string>
            {
                ["Engine__Threads"] = "1",
                ["Engine__KvCacheBytes"] = "16777216",
                ["Logging__LogLevel__Default"] = "Warning",
            },
        }, ServiceBinaries.Discover(), echo: null, CancellationToken.None);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(90) };

        using var response = await http.PostAsJsonAsync(new Uri(stack.RouterUrl, "v1/completions"),
            new { model = ModelName, prompt = Prompt, max_tokens = MaxTokens, temperature = 0 });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var served = JsonNode.Parse(body)!["choices"]![0]!["text"]!.GetValue<string>();

        Assert.Equal(reference, served);
        Assert.Equal(Expected, served);
    }
}
