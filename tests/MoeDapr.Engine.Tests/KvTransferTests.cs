using MoeDapr.Contracts;
using System.Runtime.InteropServices;
using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.Engine.Tests;

public sealed class KvTransferTests
{
    public static TheoryData<string> Families => new(TinyModels.Families);

    [Theory]
    [MemberData(nameof(Families))]
    public async Task ExportImport_IntoAnotherEngine_ContinuesAsIfNeverMoved(string family)
    {
        var prompt = TinyModels.Prompt(19, 5);
        var sampling = new SamplingParams { Temperature = 0.9f, TopK = 20, Seed = 1234, MaxTokens = 9 };
        await using var local = await TinyModels.EngineAsync(family);
        var expected = (await local.GenerateAllAsync("local", prompt, sampling)).Ids();

        await using var prefill = await TinyModels.EngineAsync(family);
        await using var decode = await TinyModels.EngineAsync(family, TinyModels.Options() with { NumBlocks = 128 });
        var first = (await prefill.PrefillAsync([new PrefillRequest("remote", prompt, sampling)]))[0];
        var size = await prefill.ExportSizeAsync(first.Kv!);
        Assert.Equal(prompt.Length, first.Kv!.Tokens);
        Assert.Equal(size, prefill.ExportHeader(prompt.Length).PayloadBytes); // known before the prefill runs: prefill allocates staging meanwhile
        var buffer = Marshal.AllocHGlobal((nint)size);
        try
        {
            Assert.Equal(size, await prefill.ExportKvAsync(first.Kv!, buffer, size));
            Assert.True(await prefill.ReleaseAsync(first.Kv!));
            var headerBytes = new byte[KvPayloadHeader.Size];
            Marshal.Copy(buffer, headerBytes, 0, headerBytes.Length);
            var header = KvPayloadHeader.Read(headerBytes);
            Assert.Equal(prompt.Length, header.Tokens);
            Assert.Equal(5, header.Blocks);

            var handle = await decode.ImportKvAsync(buffer, size, prompt);
            var rest = await decode.GenerateAllAsync(new GenerateRequest
            {
                RequestId = "remote", PromptTokens = prompt, Sampling = sampling with { Seed = first.Seed }, Kv = handle, FirstToken = first.FirstToken.TokenId,
            });

            Assert.Equal(expected, new[] { first.FirstToken.TokenId }.Concat(rest.Ids()));
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    [Fact]
    public async Task ImportKvAsync_CancelledBeforeTheEngineReachesIt_NeverTouchesTheMemory()
    {
        var prompt = TinyModels.Prompt(13, 4);
        await using var prefill = await TinyModels.EngineAsync("mixtral");
        await using var decode = await TinyModels.EngineAsync("mixtral", TinyModels.Options() with { NumBlocks = 128 });
        var first = (await prefill.PrefillAsync([new PrefillRequest("kv", prompt, SamplingParams.Greedy(4))]))[0];
        var size = await prefill.ExportSizeAsync(first.Kv!);
        var buffer = Marshal.AllocHGlobal((nint)size);
        using var stepped = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        try
        {
            await prefill.ExportKvAsync(first.Kv!, buffer, size);

            // Hold the decode engine's thread inside a step so the import waits in its queue.
            decode.StepObserver = _ =>
            {
                stepped.Set();
                gate.Wait(TimeSpan.FromSeconds(30));
            };
            var running = decode.GenerateAllAsync("busy", TinyModels.Prompt(6, 9), SamplingParams.Greedy(6));
            Assert.True(stepped.Wait(TimeSpan.FromSeconds(30)), "the engine never stepped");

            using var cancel = new CancellationTokenSource();
            var import = decode.ImportKvAsync(buffer, size, prompt, cancel.Token);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => import.WaitAsync(TimeSpan.FromSeconds(30)));

            // The caller may now free the memory; the engine must have dropped the queued copy.
            decode.StepObserver = null;
            gate.Set();
            await running.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, decode.Stats.KvHandles);

            var handle = await decode.ImportKvAsync(buffer, size, prompt);
            Assert.Equal(prompt.Length, handle.Tokens);
        }
        finally
        {
            gate.Set();
            Marshal.FreeHGlobal(buffer);
        }
    }

    [Fact]
    public async Task Import_PayloadOfAnotherShape_IsRejectedWithReason()
    {
        await using var mixtral = await TinyModels.EngineAsync("mixtral");
        await using var qwen3 = await TinyModels.EngineAsync("qwen3_moe");
        var prompt = TinyModels.Prompt(8);
        var first = (await mixtral.PrefillAsync([new PrefillRequest("a", prompt, SamplingParams.Greedy(4))]))[0];
        var size = await mixtral.ExportSizeAsync(first.Kv!);
        var buffer = Marshal.AllocHGlobal((nint)size);
        try
        {
            await mixtral.ExportKvAsync(first.Kv!, buffer, size);

            var error = await Assert.ThrowsAsync<InvalidDataException>(() => qwen3.ImportKvAsync(buffer, size, prompt));
            Assert.Contains("kv heads", error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<InvalidDataException>(() => mixtral.ImportKvAsync(buffer, size - 1, prompt));
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    [Fact]
    public async Task Prefill_Batch_ReturnsFirstTokensOfLocalGeneration()
    {
        await using var engine = await TinyModels.EngineAsync("qwen2_moe");
        var prompts = new[] { TinyModels.Prompt(3, 1), TinyModels.Prompt(17, 2), TinyModels.Prompt(40, 3) };

        var results = await engine.PrefillAsync(prompts.Select((p, i) => new PrefillRequest($"p{i}", p, SamplingParams.Greedy(5))).ToArray());

        for (var i = 0; i < prompts.Length; i++)
        {
            var local = (await engine.GenerateAllAsync($"g{i}", prompts[i], SamplingParams.Greedy(1))).Ids();
            Assert.Equal(local[0], results[i].FirstToken.TokenId);
            Assert.Equal(prompts[i].Length, results[i].Kv!.Tokens);
            await engine.ReleaseAsync(results[i].Kv!);
        }

        Assert.True(await Poll.EventuallyAsync(() => engine.Stats is { KvBlocksUsed: 0, KvHandles: 0 }));
    }
}
