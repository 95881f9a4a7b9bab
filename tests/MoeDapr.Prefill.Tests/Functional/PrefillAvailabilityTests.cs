using System.Net;
using MoeDapr.Contracts;
using MoeDapr.Prefill.Tests.Infrastructure;
using static MoeDapr.Prefill.Tests.Infrastructure.PrefillCalls;

namespace MoeDapr.Prefill.Tests.Functional;

/// <summary>Prefill before its model is loaded, and when kv-transfer cannot be reached.</summary>
public sealed class PrefillAvailabilityTests
{
    [Fact]
    public async Task RunBatch_WhileTheModelLoads_NotReadyAnd503ThenServes()
    {
        using var checkpoint = new TinyCheckpoint();
        await using var factory = new PrefillFactory(checkpoint.Path, kvTransfer: null);
        await using var gate = checkpoint.HoldLoading();
        using var client = factory.CreateClient();
        var batch = Batch(Sequence("early", checkpoint.Prompt(6), maxTokens: 1));

        using (var live = await client.GetAsync(new Uri("/health", UriKind.Relative)))
        using (var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        using (var early = await client.PrefillAsync(batch))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
            Assert.Contains("loading", await early.ProblemDetailAsync(), StringComparison.Ordinal);
        }

        await gate.ReleaseAsync();

        await client.WaitUntilReadyAsync("prefill");
        var served = Assert.Single((await client.PrefillOkAsync([.. batch.Sequences])).Results);
        Assert.NotNull(served.FirstToken);
    }

    [Fact]
    public async Task RunBatch_KvTransferUnreachable_SequenceFailsNamingKvTransferAndTheEngineKeepsNoKv()
    {
        using var checkpoint = new TinyCheckpoint();
        await using var factory = new PrefillFactory(checkpoint.Path, kvTransfer: null);
        using var client = factory.CreateClient();
        await client.WaitUntilReadyAsync("prefill");

        var result = Assert.Single((await client.PrefillOkAsync(Sequence("stranded", checkpoint.Prompt(10)))).Results);

        Assert.Equal(WorkerError.Internal, result.Error?.Code);
        Assert.Contains("kv-transfer", result.Error!.Message, StringComparison.Ordinal);
        Assert.Null(result.KvHandle);
        await Poll.UntilAsync(async () => await client.EngineKvHandlesAsync() == 0, "prefill to release the KV it could not hand over");
    }
}
