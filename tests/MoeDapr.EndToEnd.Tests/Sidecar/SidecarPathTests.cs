using System.Diagnostics;
using MoeDapr.EndToEnd.Tests.Infrastructure;

namespace MoeDapr.EndToEnd.Tests.Sidecar;

/// <summary>prefill → kv-transfer → decode with every call through the local Dapr sidecars, in-memory components.</summary>
public sealed class SidecarPathTests(SidecarStackFixture stack) : IClassFixture<SidecarStackFixture>
{
    private static SamplingParams Greedy(int maxTokens, bool ignoreEos = false) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = ignoreEos };

    private static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => ((i * 13) + (salt * 7) + 1) % 500).ToArray();

    [Fact]
    public async Task Generate_ThroughSidecars_EqualsInProcessEngine()
    {
        var prompt = Prompt(37, 1);
        var expected = await stack.ReferenceGreedyAsync(prompt, 10);

        var prefilled = await stack.PrefillAsync("dapr-1", prompt, Greedy(10));
        Assert.True(prefilled.Error is null, prefilled.Error?.Message + stack.Logs());
        var tokens = new List<int> { prefilled.FirstToken!.TokenId };
        if (prefilled.FinishReason is null)
        {
            await foreach (var e in stack.DecodeAsync(new DecodeRequest
            {
                RequestId = "dapr-1", PromptTokenIds = prompt, Sampling = Greedy(10), FirstToken = prefilled.FirstToken, KvHandle = prefilled.KvHandle,
            }))
            {
                Assert.NotEqual(DecodeEventKind.Error, e.Kind);
                if (e.Kind == DecodeEventKind.Token)
                {
                    tokens.Add(e.Token!.TokenId);
                }
            }
        }

        Assert.Equal(expected, tokens);
    }

    [Fact]
    public async Task Decode_ThroughSidecar_StreamsFirstTokenBeforeTheLastIsGenerated_AndHangUpFreesTheSequence()
    {
        var prompt = Prompt(20, 2);
        using var hangUp = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var first = true;
        await foreach (var e in stack.DecodeAsync(new DecodeRequest { RequestId = "dapr-2", PromptTokenIds = prompt, Sampling = Greedy(1500, ignoreEos: true) }, hangUp.Token))
        {
            Assert.True(first, "the loop leaves after the first event");
            Assert.Equal(DecodeEventKind.Token, e.Kind);
            var stats = await stack.DecodeStatsAsync();
            Assert.Equal(1, stats.Engine.Running); // still generating: the sidecar relayed the token as it was produced
            first = false;
            break; // hang up: the sidecar must pass the closed call on to decode
        }

        var deadline = Stopwatch.StartNew();
        DecodeStatsView after;
        do
        {
            await Task.Delay(100);
            after = await stack.DecodeStatsAsync();
        }
        while ((after.ActiveCalls != 0 || after.Engine.Running != 0 || after.Engine.KvBlocksUsed != 0) && deadline.Elapsed < TimeSpan.FromSeconds(20));

        Assert.True(after is { ActiveCalls: 0, Engine: { Running: 0, KvBlocksUsed: 0 } }, $"decode still holds the sequence: {after}");
    }
}

/// <summary>The Redis variant: what the workers publish lands in Redis streams that every subscriber group reads.</summary>
public sealed class RedisPubSubTests(RedisSidecarStackFixture stack) : IClassFixture<RedisSidecarStackFixture>
{
    [Fact]
    public async Task Workers_OnRedis_PublishLoadSnapshotsAndCompletionRecords()
    {
        var prompt = Enumerable.Range(1, 24).ToArray();
        await foreach (var e in stack.DecodeAsync(new DecodeRequest { RequestId = "redis-1", PromptTokenIds = prompt, Sampling = new SamplingParams { Temperature = 0, MaxTokens = 4 } }))
        {
            Assert.NotEqual(DecodeEventKind.Error, e.Kind);
        }

        var deadline = Stopwatch.StartNew();
        string snapshots, completions;
        do
        {
            await Task.Delay(250);
            snapshots = await RedisAsync("XREVRANGE", PubSub.WorkerLoadTopic, "+", "-", "COUNT", "50");
            completions = await RedisAsync("XRANGE", PubSub.CompletionsTopic, "-", "+");
        }
        while (!(snapshots.Contains("\"appId\":\"decode\"", StringComparison.Ordinal) && snapshots.Contains("\"appId\":\"prefill\"", StringComparison.Ordinal)
            && completions.Contains("redis-1", StringComparison.Ordinal)) && deadline.Elapsed < TimeSpan.FromSeconds(30));

        Assert.Contains("\"appId\":\"decode\"", snapshots, StringComparison.Ordinal);
        Assert.Contains("\"appId\":\"prefill\"", snapshots, StringComparison.Ordinal);
        Assert.Contains("\"requestId\":\"redis-1\"", completions, StringComparison.Ordinal);
        Assert.Contains("\"path\":\"local-prefill\"", completions, StringComparison.Ordinal);
    }

    private async Task<string> RedisAsync(params string[] command)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var part in (string[])["-p", stack.RedisPort!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), .. command])
        {
            info.ArgumentList.Add(part);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(timeout.Token);
        return output;
    }
}
