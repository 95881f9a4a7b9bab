using static MoeDapr.KvTransfer.Tests.TestSupport;

namespace MoeDapr.KvTransfer.Tests;

public sealed class LeaseExpiryTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly KvTransferFactory _factory;

    public LeaseExpiryTests() => _factory = new KvTransferFactory(time: _time);

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Sweeper_LeaseNobodyCollects_FreesTheStagingAndCountsIt()
    {
        using var client = _factory.NewClient();
        using var http = _factory.CreateClient();
        var payload = Payload(SmallLayout);
        await using var writer = await client.AllocateAsync(SmallLayout, [Hash(7)], CancellationToken.None);
        writer.Write(payload);
        await writer.CommitAsync(CancellationToken.None);
        var expiredBefore = await MetricAsync("moedapr_kv_transfer_lease_expired_total");
        Assert.True(await MetricAsync("moedapr_kv_transfer_staging_bytes_in_use") > 0);

        _time.Advance(TimeSpan.FromSeconds(31));

        Assert.True(await Poll.EventuallyAsync(async () => (await http.GetAsync("kv/allocations/" + writer.Handle)).StatusCode == HttpStatusCode.NotFound));
        Assert.Equal(expiredBefore + 1, await MetricAsync("moedapr_kv_transfer_lease_expired_total"));
        Assert.Equal(0, await MetricAsync("moedapr_kv_transfer_staging_bytes_in_use"));
        Assert.Equal(0, (await client.LocatePrefixAsync([Hash(7)], CancellationToken.None)).MatchedBlocks);
        await Assert.ThrowsAsync<KvTransferException>(() => client.OpenReadAsync(writer.Handle, CancellationToken.None));
    }
}
