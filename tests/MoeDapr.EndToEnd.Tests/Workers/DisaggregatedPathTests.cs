using System.Runtime.InteropServices;
using MoeDapr.Contracts.KvTransfer;
using MoeDapr.EndToEnd.Tests.Infrastructure;

namespace MoeDapr.EndToEnd.Tests.Workers;

/// <summary>prefill → kv-transfer → decode as real processes, checked against the same model served in one process.</summary>
public sealed class DisaggregatedPathTests(WorkerStackFixture stack) : IClassFixture<WorkerStackFixture>
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    private static SamplingParams Greedy(int maxTokens, bool ignoreEos = false) =>
        new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = ignoreEos };

    private static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => ((i * 31) + (salt * 17) + 3) % 500).ToArray();

    [Theory]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(45)]
    public async Task Generate_GreedyThroughKvTransfer_EqualsInProcessEngine(int promptLength)
    {
        var prompt = Prompt(promptLength, promptLength);
        var expected = await stack.ReferenceGreedyAsync(prompt, 12);

        var (tokens, last) = await stack.GenerateAsync(prompt, Greedy(12));

        Assert.Equal(expected, tokens);
        Assert.Equal(DecodeEventKind.Done, last.Kind);
        Assert.Equal(tokens.Count, last.CompletionTokens);
        Assert.Equal(promptLength, last.PromptTokens);
    }

    [Fact]
    public async Task Generate_LocalPrefillOnDecode_EqualsInProcessEngine()
    {
        var prompt = Prompt(21, 2);
        var expected = await stack.ReferenceGreedyAsync(prompt, 10);

        var tokens = new List<int>();
        await foreach (var e in stack.DecodeAsync(new DecodeRequest { RequestId = "local-1", PromptTokenIds = prompt, Sampling = Greedy(10) }))
        {
            if (e.Kind == DecodeEventKind.Token)
            {
                Assert.Equal(tokens.Count, e.Index);
                tokens.Add(e.Token!.TokenId);
            }
        }

        Assert.Equal(expected, tokens);
    }

    [Fact]
    public async Task Generate_ThirtyTwoConcurrentRequests_AllEqualInProcessEngine()
    {
        var prompts = Enumerable.Range(0, 32).Select(i => Prompt(8 + (i % 20), 100 + i)).ToArray();
        var expected = new List<IReadOnlyList<int>>();
        foreach (var prompt in prompts)
        {
            expected.Add(await stack.ReferenceGreedyAsync(prompt, 8));
        }

        var results = await Task.WhenAll(prompts.Select(p => stack.GenerateAsync(p, Greedy(8))));

        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i], results[i].Tokens);
        }

        await AssertNothingHeldAsync();
    }

    [Fact]
    public async Task Decode_LongGeneration_FirstTokenArrivesWhileSequenceStillRuns_ThenAbortEndsIt()
    {
        var prompt = Prompt(12, 3);
        var prefilled = await stack.PrefillAsync("stream-1", prompt, Greedy(1500, ignoreEos: true));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var events = new List<DecodeStreamEvent>();
        await foreach (var e in stack.DecodeAsync(new DecodeRequest
        {
            RequestId = "stream-1", PromptTokenIds = prompt, Sampling = Greedy(1500, ignoreEos: true),
            FirstToken = prefilled.FirstToken, KvHandle = prefilled.KvHandle,
        }, timeout.Token))
        {
            events.Add(e);
            if (events.Count == 1)
            {
                // The first token is in our hands while the sequence is still generating.
                var stats = await stack.DecodeStatsAsync();
                Assert.Equal(1, stats.ActiveCalls);
                Assert.Equal(1, stats.Engine.Running);
                using var abort = await stack.Http.PostAsJsonAsync(new Uri(stack.Decode, WorkerMethods.DecodeAbort), new AbortRequest("stream-1"), ContractJson.Options);
                Assert.Equal(HttpStatusCode.NoContent, abort.StatusCode);
            }
        }

        Assert.Equal(DecodeEventKind.Token, events[0].Kind);
        Assert.Equal(1, events[0].Index);
        Assert.Equal(DecodeEventKind.Done, events[^1].Kind);
        Assert.Equal(FinishReason.Abort, events[^1].FinishReason);
        Assert.True(events.Count < 1500, $"the abort should end the stream early, got {events.Count} events");
        await AssertNothingHeldAsync();
    }

    [Fact]
    public async Task Decode_ClientDisconnectsMidStream_FreesKvBlocksAndBatchSlot()
    {
        var prompt = Prompt(40, 4);
        var prefilled = await stack.PrefillAsync("gone-1", prompt, Greedy(1500, ignoreEos: true));
        using var disconnect = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var received = 0;
        try
        {
            await foreach (var e in stack.DecodeAsync(new DecodeRequest
            {
                RequestId = "gone-1", PromptTokenIds = prompt, Sampling = Greedy(1500, ignoreEos: true),
                FirstToken = prefilled.FirstToken, KvHandle = prefilled.KvHandle,
            }, disconnect.Token))
            {
                if (++received == 3)
                {
                    var running = await stack.DecodeStatsAsync();
                    Assert.True(running.Engine.KvBlocksUsed > 0, "the sequence should hold KV blocks while it runs");
                    await disconnect.CancelAsync();
                    break; // hang up: leaving the loop disposes the response and closes the connection
                }
            }
        }
        catch (OperationCanceledException)
        {
            // We hung up.
        }

        Assert.Equal(3, received);
        await AssertNothingHeldAsync();
        var stats = await stack.DecodeStatsAsync();
        Assert.True(stats.Engine.KvBlocksTotal > 0);
    }

    [Fact]
    public async Task InvalidWorkerRequests_AreRefusedWith400()
    {
        using var emptyBatch = await stack.Http.PostAsJsonAsync(
            new Uri(stack.Prefill, WorkerMethods.PrefillBatch), new PrefillBatchRequest { BatchId = "b", Sequences = [] }, ContractJson.Options);
        using var handleWithoutToken = await stack.Http.PostAsJsonAsync(new Uri(stack.Decode, WorkerMethods.DecodeGenerate),
            new DecodeRequest { RequestId = "x", PromptTokenIds = [1, 2], Sampling = Greedy(4), KvHandle = "00" }, ContractJson.Options);
        using var zeroTokens = await stack.Http.PostAsJsonAsync(new Uri(stack.Decode, WorkerMethods.DecodeGenerate),
            new DecodeRequest { RequestId = "y", PromptTokenIds = [1, 2], Sampling = Greedy(0) }, ContractJson.Options);
        using var malformed = await stack.Http.PostAsync(new Uri(stack.Decode, WorkerMethods.DecodeGenerate), new StringContent("{\"requestId\":", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, emptyBatch.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, handleWithoutToken.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, zeroTokens.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("maxTokens", await zeroTokens.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prefill_TokenOutsideVocabulary_FailsOnlyThatSequence()
    {
        var request = new PrefillBatchRequest
        {
            BatchId = "mixed",
            Sequences =
            [
                new PrefillSequence { RequestId = "ok", PromptTokenIds = Prompt(6, 9), Sampling = Greedy(1) },
                new PrefillSequence { RequestId = "bad", PromptTokenIds = [1, 100000], Sampling = Greedy(4) },
            ],
        };
        var stagingBefore = await StagingInUseAsync();
        using var response = await stack.Http.PostAsJsonAsync(new Uri(stack.Prefill, WorkerMethods.PrefillBatch), request, ContractJson.Options);
        var body = await response.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(body!.Results[0].Error);
        Assert.Equal(FinishReason.Length, body.Results[0].FinishReason); // maxTokens 1: done at prefill, no KV kept
        Assert.Null(body.Results[0].KvHandle);
        Assert.Equal(WorkerError.InvalidRequest, body.Results[1].Error?.Code);
        // Staging allocated while the engine computed is given back when the sequence ends at its first token.
        Assert.Equal(stagingBefore, await StagingInUseAsync());
    }

    private async Task<double> StagingInUseAsync()
    {
        var text = await stack.Http.GetStringAsync(new Uri(stack.KvTransfer, "metrics"));
        var line = text.Split('\n').Single(l => l.StartsWith("moedapr_kv_transfer_staging_bytes_in_use ", StringComparison.Ordinal));
        return double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Prefill_WithKvExport_AnswersItsStageTimesInServerTiming()
    {
        var request = new PrefillBatchRequest
        {
            BatchId = "timed",
            Sequences = [new PrefillSequence { RequestId = "timed-1", PromptTokenIds = Prompt(20, 11), Sampling = Greedy(4) }],
        };
        using var response = await stack.Http.PostAsJsonAsync(new Uri(stack.Prefill, WorkerMethods.PrefillBatch), request, ContractJson.Options);
        var body = await response.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options);
        using var release = await stack.Http.DeleteAsync(new Uri(stack.KvTransfer, KvTransferRoutes.Allocation(body!.Results[0].KvHandle!)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var timing = string.Join(", ", response.Headers.GetValues("Server-Timing"));
        var stages = timing.Split(',', StringSplitOptions.TrimEntries).Select(part => part.Split(';')[0]).ToArray();
        Assert.Equal(["engine", "kv-allocate", "kv-export", "kv-commit", "engine-release"], stages);
        Assert.All(timing.Split(',', StringSplitOptions.TrimEntries), part => Assert.Matches(@";dur=\d+\.\d{2}$", part));
    }

    [Fact]
    public async Task KvTransfer_AbandonedAllocation_IsFreedWhenItsLeaseExpires()
    {
        var expiredBefore = await stack.MetricAsync(stack.KvTransfer, "moedapr_kv_transfer_lease_expired_total");
        var layout = new KvBlockLayout(KvDtype.Float32, 2, 2, 32, 16, 20);
        var writer = await stack.KvClient.AllocateAsync(layout, null, CancellationToken.None);
        var handle = writer.Handle; // never committed nor released: a producer that died

        await Poll.UntilAsync(
            async () => await stack.KvClient.Control.LocateAsync(handle, null, CancellationToken.None) is null,
            WorkerStackFixture.LeaseTtl + Settle, "the abandoned allocation's expiry");

        Assert.True(await stack.MetricAsync(stack.KvTransfer, "moedapr_kv_transfer_lease_expired_total") > expiredBefore);
        var events = new List<DecodeStreamEvent>();
        await foreach (var e in stack.DecodeAsync(new DecodeRequest
        {
            RequestId = "expired-1", PromptTokenIds = Enumerable.Range(1, 20).ToArray(), Sampling = Greedy(4),
            FirstToken = new TokenSample { TokenId = 5 }, KvHandle = handle,
        }))
        {
            events.Add(e);
        }

        var error = Assert.Single(events);
        Assert.Equal(DecodeEventKind.Error, error.Kind);
        Assert.Equal(WorkerError.KvNotFound, error.Error!.Code);
    }

    [Fact]
    public async Task Decode_CorruptedKvPayload_IsRefusedAndFreed()
    {
        var prompt = Prompt(33, 5);
        var prefilled = await stack.PrefillAsync("corrupt-1", prompt, Greedy(8));
        await using (var reader = await stack.KvClient.OpenReadAsync(prefilled.KvHandle!, CancellationToken.None, verify: false))
        {
            Assert.Equal(KvDataPlane.SharedMemory, reader.Plane);
            var at = reader.Address + KvPayloadHeader.Size + 100;
            Marshal.WriteByte(at, (byte)(Marshal.ReadByte(at) ^ 0x40)); // one flipped bit in the staged K block
        }

        var events = new List<DecodeStreamEvent>();
        await foreach (var e in stack.DecodeAsync(new DecodeRequest
        {
            RequestId = "corrupt-1", PromptTokenIds = prompt, Sampling = Greedy(8), FirstToken = prefilled.FirstToken, KvHandle = prefilled.KvHandle,
        }))
        {
            events.Add(e);
        }

        var error = Assert.Single(events);
        Assert.Equal(DecodeEventKind.Error, error.Kind);
        Assert.True(error.Error!.Message.Contains("corrupted", StringComparison.Ordinal), error.Error.Message);
        Assert.True(await stack.MetricAsync(stack.Decode, "moedapr_kv_integrity_failures_total") >= 1);
        Assert.Null(await stack.KvClient.Control.LocateAsync(prefilled.KvHandle!, null, CancellationToken.None));
        await AssertNothingHeldAsync();
    }

    /// <summary>No decode call open, no sequence in the batch, no KV block or handle held, no kv-transfer lease alive.</summary>
    private async Task AssertNothingHeldAsync()
    {
        await Poll.UntilAsync(async () =>
        {
            var stats = await stack.DecodeStatsAsync();
            return stats is { ActiveCalls: 0, Engine: { Running: 0, Waiting: 0, KvBlocksUsed: 0, KvHandles: 0 } };
        }, Settle, "decode releasing every call, batch slot and KV block");
        await Poll.UntilAsync(
            async () => await stack.MetricAsync(stack.KvTransfer, "moedapr_kv_transfer_leases_active") == 0,
            WorkerStackFixture.LeaseTtl + Settle, "kv-transfer holding no allocation");
    }
}
