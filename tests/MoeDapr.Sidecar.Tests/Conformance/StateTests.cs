using Dapr;

namespace MoeDapr.Sidecar.Tests.Conformance;

/// <summary>DaprClient state calls (gRPC) against the sidecar, with in-memory and Redis stores.</summary>
public sealed class StateTests(RedisServer redis) : IClassFixture<RedisServer>
{
    public sealed record Order(string Id, int Quantity);

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task SaveAndGetState_RoundTrip_ReturnsValueAndEtag(string kind)
    {
        using var components = Components.Create(kind, redis.Host);
        await using var sidecar = await Sidecars.StartAsync("state-app", components);
        using var client = sidecar.CreateClient();
        var key = "order-" + Guid.NewGuid();

        await client.SaveStateAsync("statestore", key, new Order("a", 3));
        var (value, etag) = await client.GetStateAndETagAsync<Order>("statestore", key);

        Assert.Equal(new Order("a", 3), value);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.Null(await client.GetStateAsync<Order>("statestore", "missing-" + Guid.NewGuid()));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task TrySaveState_StaleEtag_ReturnsFalseAndKeepsNewerValue(string kind)
    {
        using var components = Components.Create(kind, redis.Host);
        await using var sidecar = await Sidecars.StartAsync("state-app", components);
        using var client = sidecar.CreateClient();
        var key = "etag-" + Guid.NewGuid();
        await client.SaveStateAsync("statestore", key, new Order("v1", 1));
        var (_, etag) = await client.GetStateAndETagAsync<Order>("statestore", key);

        Assert.True(await client.TrySaveStateAsync("statestore", key, new Order("v2", 2), etag));
        Assert.False(await client.TrySaveStateAsync("statestore", key, new Order("v3", 3), etag));
        Assert.Equal(new Order("v2", 2), await client.GetStateAsync<Order>("statestore", key));

        var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite };
        var ex = await Assert.ThrowsAsync<DaprException>(() =>
            client.SaveStateAsync("statestore", key, new Order("v4", 4), firstWrite));
        Assert.Contains("etag mismatch", ex.InnerException?.Message ?? ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task SaveState_WithTtl_ExpiresValue(string kind)
    {
        using var components = Components.Create(kind, redis.Host);
        await using var sidecar = await Sidecars.StartAsync("state-app", components);
        using var client = sidecar.CreateClient();
        var key = "ttl-" + Guid.NewGuid();

        await client.SaveStateAsync("statestore", key, new Order("t", 1), metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "1" });
        Assert.NotNull(await client.GetStateAsync<Order>("statestore", key));

        await Poll.UntilAsync(async () => await client.GetStateAsync<Order>("statestore", key) is null, TimeSpan.FromSeconds(10), "the value to expire");
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("redis")]
    public async Task ExecuteStateTransaction_AppliesAllOrNothing(string kind)
    {
        using var components = Components.Create(kind, redis.Host);
        await using var sidecar = await Sidecars.StartAsync("state-app", components);
        using var client = sidecar.CreateClient();
        var a = "tx-a-" + Guid.NewGuid();
        var b = "tx-b-" + Guid.NewGuid();
        await client.SaveStateAsync("statestore", b, new Order("old", 0));

        await client.ExecuteStateTransactionAsync("statestore",
        [
            new StateTransactionRequest(a, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Order("a", 1)), StateOperationType.Upsert),
            new StateTransactionRequest(b, null, StateOperationType.Delete),
        ]);
        Assert.Equal(new Order("a", 1), await client.GetStateAsync<Order>("statestore", a));
        Assert.Null(await client.GetStateAsync<Order>("statestore", b));

        // A stale etag on one operation rejects the whole transaction.
        await Assert.ThrowsAsync<DaprException>(() => client.ExecuteStateTransactionAsync("statestore",
        [
            new StateTransactionRequest(b, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Order("b", 2)), StateOperationType.Upsert),
            new StateTransactionRequest(a, System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Order("a", 9)), StateOperationType.Upsert, etag: "999"),
        ]));
        Assert.Null(await client.GetStateAsync<Order>("statestore", b));
        Assert.Equal(new Order("a", 1), await client.GetStateAsync<Order>("statestore", a));
    }

    [Fact]
    public async Task RedisState_UsesDaprdKeyLayout()
    {
        using var components = Components.Create("redis", redis.Host);
        await using var sidecar = await Sidecars.StartAsync("layout-app", components);
        using var client = sidecar.CreateClient();
        var key = "k-" + Guid.NewGuid();

        await client.SaveStateAsync("statestore", key, new Order("x", 7));

        var hash = await redis.Connection!.GetDatabase().HashGetAllAsync($"layout-app||{key}");
        var fields = hash.ToDictionary(h => h.Name.ToString(), h => h.Value.ToString());
        Assert.Equal("1", fields["version"]);
        Assert.Contains("\"quantity\":7", fields["data"], StringComparison.OrdinalIgnoreCase);
    }
}
