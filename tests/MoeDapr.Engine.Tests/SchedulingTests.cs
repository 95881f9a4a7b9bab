using MoeDapr.Contracts;

namespace MoeDapr.Engine.Tests;

public sealed class SchedulingTests
{
    public static TheoryData<string> Families => new(TinyModels.Families);

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Generate_ConcurrentSequencesOfDifferentLengths_EqualEachRunAlone(string family)
    {
        // 16-token prefill chunks: the 23-token prompt is split, and its chunks alternate with other sequences' decode steps.
        await using var engine = await TinyModels.EngineAsync(family, TinyModels.Options() with { MaxPrefillTokens = 16 });
        var prompts = new[] { TinyModels.Prompt(5, 1), TinyModels.Prompt(23, 2), TinyModels.Prompt(12, 3), TinyModels.Prompt(1, 4) };
        var sampling = new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 42, MaxTokens = 10 };
        var alone = new List<int[]>();
        for (var i = 0; i < prompts.Length; i++)
        {
            alone.Add((await engine.GenerateAllAsync($"alone-{i}", prompts[i], sampling)).Ids());
        }

        // Staggered joins: the later requests enter a batch that is already decoding.
        var together = prompts.Select(async (p, i) =>
        {
            await Task.Delay(i * 5);
            return (await engine.GenerateAllAsync($"together-{i}", p, sampling)).Ids();
        }).ToArray();
        var results = await Task.WhenAll(together);

        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(alone[i], results[i]);
        }
    }

    [Fact]
    public async Task Generate_RepeatedPrefix_HitsPrefixCacheAndGivesSameTokens()
    {
        await using var engine = await TinyModels.EngineAsync("qwen2_moe");
        var prompt = TinyModels.Prompt(30);
        var sampling = SamplingParams.Greedy(8);

        var cold = (await engine.GenerateAllAsync("cold", prompt, sampling)).Ids();
        var hitsBefore = engine.Stats.PrefixCacheHits;
        var warm = (await engine.GenerateAllAsync("warm", prompt, sampling)).Ids();

        Assert.Equal(cold, warm);
        // 30 tokens in blocks of 4: the 7 full blocks of the first 29 tokens are reused.
        Assert.True(await Poll.EventuallyAsync(() => engine.Stats.PrefixCacheHits - hitsBefore == 7), $"hits {engine.Stats.PrefixCacheHits - hitsBefore}");
    }

    [Fact]
    public async Task Prefill_RepeatedPrefix_ReportsCachedPromptTokens()
    {
        await using var engine = await TinyModels.EngineAsync("mixtral");
        var prompt = TinyModels.Prompt(30);

        var cold = (await engine.PrefillAsync([new PrefillRequest("cold", prompt, SamplingParams.Greedy(4))]))[0];
        var warm = (await engine.PrefillAsync([new PrefillRequest("warm", prompt, SamplingParams.Greedy(4))]))[0];

        Assert.Equal(0, cold.CachedTokens);
        Assert.Equal(28, warm.CachedTokens); // the 7 full blocks of 4 within the first 29 tokens
        Assert.Equal(cold.FirstToken.TokenId, warm.FirstToken.TokenId);
    }

    [Fact]
    public async Task Generate_Cancelled_FreesBlocksAndBatchSlotAtOnce()
    {
        await using var engine = await TinyModels.EngineAsync("mixtral");
        using var cancel = new CancellationTokenSource();
        var request = new GenerateRequest { RequestId = "long", PromptTokens = TinyModels.Prompt(20), Sampling = SamplingParams.Greedy(1500) with { IgnoreEos = true } };
        var received = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(request, cancel.Token))
            {
                if (++received == 3)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        // Blocks of full prompt blocks stay cached (evictable) but none stays referenced.
        Assert.True(await Poll.EventuallyAsync(() => engine.Stats is { Running: 0, Waiting: 0, KvBlocksUsed: 0 }), $"stats {engine.Stats}");
    }

    [Fact]
    public async Task Generate_ConsumerStopsEarlyWithoutCancelling_FreesBlocksAndBatchSlot()
    {
        await using var engine = await TinyModels.EngineAsync("mixtral");
        var request = new GenerateRequest { RequestId = "left", PromptTokens = TinyModels.Prompt(20), Sampling = SamplingParams.Greedy(1500) with { IgnoreEos = true } };

        // A consumer whose own caller failed stops reading without cancelling its token.
        await Assert.ThrowsAsync<IOException>(async () =>
        {
            await foreach (var _ in engine.GenerateAsync(request))
            {
                throw new IOException("the caller's connection is gone");
            }
        });

        Assert.True(await Poll.EventuallyAsync(() => engine.Stats is { Running: 0, Waiting: 0, KvBlocksUsed: 0 }), $"stats {engine.Stats}");
        Assert.True(engine.Stats.GeneratedTokens < 100, $"the sequence went on generating after its reader left: {engine.Stats}");
    }

    [Fact]
    public async Task Generate_StopTokenAndMaxTokens_EndWithReason()
    {
        await using var engine = await TinyModels.EngineAsync("qwen3_moe");
        var prompt = TinyModels.Prompt(6);
        var free = (await engine.GenerateAllAsync("free", prompt, SamplingParams.Greedy(6))).Ids();

        var stopped = await engine.GenerateAllAsync("stop", prompt, SamplingParams.Greedy(6) with { StopTokenIds = [free[2]] });

        Assert.Equal(free.Take(Array.IndexOf(free, free[2]) + 1), stopped.Ids());
        Assert.Equal(FinishReason.Stop, stopped[^1].FinishReason);
        Assert.All(stopped.SkipLast(1), o => Assert.Null(o.FinishReason));
    }

    [Fact]
    public async Task Generate_StopString_StopsWhenDecodedTextContainsIt()
    {
        var tokenizer = new DigitTokenizer();
        await using var engine = await TinyModels.EngineAsync("mixtral", tokenizer: tokenizer);
        var prompt = TinyModels.Prompt(6);
        var free = (await engine.GenerateAllAsync("free", prompt, SamplingParams.Greedy(8))).Ids();
        var stop = tokenizer.Decode(free.Skip(2).Take(2));

        var stopped = (await engine.GenerateAllAsync("stop", prompt, SamplingParams.Greedy(8) with { StopStrings = [stop] })).Ids();

        Assert.Equal(free.Take(4), stopped);
    }

    [Fact]
    public async Task Decode_ThousandSteps_KeepsNativeTensorCountFlat()
    {
        await using var engine = await TinyModels.EngineAsync("qwen2_moe");
        var sampling = SamplingParams.Greedy(40) with { IgnoreEos = true };
        await engine.GenerateAllAsync("warmup", TinyModels.Prompt(8), sampling);
        Assert.True(await Poll.EventuallyAsync(() => engine.Stats.Running == 0));
        var before = engine.Stats.LiveTensors;

        var outputs = await engine.GenerateAllAsync("long", TinyModels.Prompt(8, 1), sampling with { MaxTokens = 1000 });

        Assert.Equal(1000, outputs.Count);
        // Steps create and free thousands of tensors; what remains must not grow with the step count.
        Assert.True(await Poll.EventuallyAsync(() => engine.Stats.Running == 0));
        Assert.True(before > 0);
        Assert.InRange(engine.Stats.LiveTensors - before, -5, 5);
    }

    [Fact]
    public async Task Enqueue_BeyondQueueBound_IsRefusedAtOnce()
    {
        await using var engine = await TinyModels.EngineAsync("mixtral", TinyModels.Options() with { MaxQueuedRequests = 1 });
        var refused = 0;
        var tasks = new List<Task>();
        for (var i = 0; i < 50; i++)
        {
            try
            {
                tasks.Add(engine.LogitsAsync(TinyModels.Prompt(40)));
            }
            catch (EngineOverloadedException)
            {
                refused++;
            }
        }

        await Task.WhenAll(tasks);
        Assert.True(refused > 0);
    }

    [Fact]
    public async Task Prefill_PromptBeyondMaxLengthOrImportWithoutFirstToken_IsRejectedAndEngineKeepsServing()
    {
        await using var engine = await TinyModels.EngineAsync("mixtral", TinyModels.Options() with { MaxSequenceLength = 32 });

        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => engine.PrefillAsync([new PrefillRequest("long", TinyModels.Prompt(40), SamplingParams.Greedy(2))]));
        var noFirst = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await engine.GenerateAllAsync(new GenerateRequest { RequestId = "x", PromptTokens = [1], Sampling = SamplingParams.Greedy(2), Kv = new EngineKvHandle(99, 1) }));

        Assert.Contains("prompt", tooLong.Message, StringComparison.Ordinal);
        Assert.Contains("FirstToken", noFirst.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await engine.GenerateAllAsync("ok", TinyModels.Prompt(5), SamplingParams.Greedy(3))).Count);
    }

    /// <summary>Token i decodes to the two-character text of i, enough to exercise stop strings.</summary>
    private sealed class DigitTokenizer : MoeDapr.Model.ITextTokenizer
    {
        public int VocabSize => 96;
        public int? BosTokenId => null;
        public IReadOnlyList<int> EosTokenIds => [];
        public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true) => throw new NotSupportedException();
        public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true) => string.Concat(ids.Select(i => $"{i:D2}|"));
    }
}
