using System.Net.Http.Json;
using System.Text.Json;
using MoeDapr.Contracts;
using MoeDapr.Prefill.Tests.Infrastructure;
using static MoeDapr.Prefill.Tests.Infrastructure.PrefillCalls;

namespace MoeDapr.Prefill.Tests.Functional;

/// <summary>Prefill on a tiny model: the first token, the prompt's KV committed in kv-transfer, nothing left in the engine.</summary>
public sealed class PrefillBatchTests(PrefillFixture prefill) : IClassFixture<PrefillFixture>
{
    [Fact]
    public async Task RunBatch_TwoPrompts_FirstTokensAndEachKvCommittedInKvTransfer()
    {
        var config = prefill.Checkpoint.Config;
        PrefillSequence[] sequences = [Sequence("kv-a", prefill.Checkpoint.Prompt(13, salt: 1)), Sequence("kv-b", prefill.Checkpoint.Prompt(6, salt: 2))];

        var answer = await prefill.Client.PrefillOkAsync(sequences);

        Assert.Equal(sequences.Select(s => s.RequestId), answer.Results.Select(r => r.RequestId));
        foreach (var (sequence, result) in sequences.Zip(answer.Results))
        {
            Assert.Null(result.Error);
            Assert.Null(result.FinishReason);
            Assert.InRange(result.FirstToken!.TokenId, 0, config.VocabSize - 1);
            Assert.Equal(sequence.PromptTokenIds.Count, result.PromptTokens);

            // kv-transfer verified the bytes against the producer's checksum before calling them committed.
            var location = await prefill.KvTransferClient.GetFromJsonAsync<JsonElement>(new Uri("kv/allocations/" + result.KvHandle, UriKind.Relative));
            Assert.Equal("Committed", location.GetProperty("state").GetString(), ignoreCase: true);
            var layout = location.GetProperty("layout");
            Assert.Equal(sequence.PromptTokenIds.Count, layout.GetProperty("tokens").GetInt32());
            Assert.Equal(config.NumLayers, layout.GetProperty("layers").GetInt32());
            Assert.Equal(config.NumKvHeads, layout.GetProperty("kvHeads").GetInt32());
        }

        // The KV lives in kv-transfer now: the engine's own handles are released.
        await Poll.UntilAsync(async () => await prefill.Client.EngineKvHandlesAsync() == 0, "prefill to release its engine KV handles");
    }

    [Fact]
    public async Task RunBatch_SamePromptAgain_ServedFromThePrefixCacheWithTheSameFirstToken()
    {
        var prompt = prefill.Checkpoint.Prompt(21, salt: 3);

        var cold = Assert.Single((await prefill.Client.PrefillOkAsync(Sequence("cold", prompt))).Results);
        var warm = Assert.Single((await prefill.Client.PrefillOkAsync(Sequence("warm", prompt))).Results);

        Assert.Equal(0, cold.CachedTokens);
        Assert.InRange(warm.CachedTokens, 1, prompt.Length - 1);
        Assert.Equal(cold.FirstToken!.TokenId, warm.FirstToken!.TokenId);
        Assert.NotEqual(cold.KvHandle, warm.KvHandle);
    }

    [Fact]
    public async Task RunBatch_MaxTokensOne_FinishesAtTheFirstTokenWithoutKv()
    {
        var result = Assert.Single((await prefill.Client.PrefillOkAsync(Sequence("one", prefill.Checkpoint.Prompt(7, salt: 4), maxTokens: 1))).Results);

        Assert.Null(result.Error);
        Assert.NotNull(result.FirstToken);
        Assert.Equal(FinishReason.Length, result.FinishReason);
        Assert.Null(result.KvHandle);
    }
}
