using System.Net;
using MoeDapr.Contracts;
using MoeDapr.Decode.Tests.Infrastructure;

namespace MoeDapr.Decode.Tests.Functional;

/// <summary>Decode while its model loads: alive, not ready, refusing work with 503; then ready and serving.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Health_WhileTheModelLoads_AliveNotReadyAndGenerate503ThenServes()
    {
        using var checkpoint = new TinyCheckpoint();
        await using var factory = new DecodeFactory(checkpoint.Path);
        await using var gate = checkpoint.HoldLoading();
        using var client = factory.CreateClient();
        var request = DecodeCalls.LocalPrefill("early", checkpoint.Prompt(6), DecodeCalls.Greedy(3));

        using (var live = await client.GetAsync(new Uri("/health", UriKind.Relative)))
        using (var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative)))
        using (var early = await client.GenerateAsync(request))
        using (var stats = await client.GetAsync(new Uri("decode/stats", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
            Assert.Contains("loading", await early.ProblemDetailAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stats.StatusCode);
        }

        await gate.ReleaseAsync();

        await client.WaitUntilReadyAsync("decode");
        using var served = await client.GenerateAsync(request);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(DecodeEventKind.Done, (await served.ReadStreamAsync()).Events[^1].Kind);
    }
}
