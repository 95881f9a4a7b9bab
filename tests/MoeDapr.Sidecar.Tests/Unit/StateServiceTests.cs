using MoeDapr.Sidecar.Resources;
using MoeDapr.Sidecar.State;

namespace MoeDapr.Sidecar.Tests.Unit;

/// <summary>The state rules both APIs share: store lookup, key prefixes, etags, concurrency and TTL.</summary>
public sealed class StateServiceTests
{
    private readonly InMemoryStateStore _store = new(
        new ComponentSpec("statestore", "state.in-memory", "v1", new Dictionary<string, string>(), [], "test"), TimeProvider.System);

    private StateService Service => new(new Dictionary<string, IStateStore> { [_store.Name] = _store }, "app");

    [Fact]
    public void Store_UnknownName_IsStoreNotFound()
    {
        var ex = Assert.Throws<StateRequestException>(() => Service.Store("other"));

        Assert.Equal(StateRequestKind.StoreNotFound, ex.Kind);
        Assert.Contains("other", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_NoStores_IsStoreNotConfigured()
    {
        var ex = Assert.Throws<StateRequestException>(() => new StateService(new Dictionary<string, IStateStore>(), "app").Store("statestore"));

        Assert.Equal(StateRequestKind.StoreNotConfigured, ex.Kind);
    }

    [Fact]
    public void ToOperation_AppliesTheAppIdPrefixAndParsesTtl()
    {
        var operation = Service.ToOperation(_store, StateOperationKind.Upsert, new StateWrite("k", [1], TtlInSeconds: "1.5"));

        Assert.Equal("app||k", operation.Key);
        Assert.Equal(TimeSpan.FromSeconds(1.5), operation.Ttl);
    }

    [Fact]
    public void ToOperation_LastWrite_DropsTheEtag()
    {
        var operation = Service.ToOperation(_store, StateOperationKind.Upsert, new StateWrite("k", [1], "7", StateConcurrency.LastWrite));

        Assert.Null(operation.Etag);
        Assert.False(operation.FirstWrite);
    }

    [Fact]
    public void ToOperation_FirstWrite_KeepsTheEtagAndMarksIt()
    {
        var operation = Service.ToOperation(_store, StateOperationKind.Upsert, new StateWrite("k", [1], "7", StateConcurrency.FirstWrite));

        Assert.Equal("7", operation.Etag);
        Assert.True(operation.FirstWrite);
    }

    [Fact]
    public void ToOperation_EmptyEtagAndDelete_CarryNoEtagAndNoValue()
    {
        var operation = Service.ToOperation(_store, StateOperationKind.Delete, new StateWrite("k", [1], ""));

        Assert.Null(operation.Etag);
        Assert.Null(operation.Value);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("k", "soon")]
    public void ToOperation_NoKeyOrBadTtl_IsBadRequest(string? key, string? ttl)
    {
        var ex = Assert.Throws<StateRequestException>(() => Service.ToOperation(_store, StateOperationKind.Upsert, new StateWrite(key, [1], TtlInSeconds: ttl)));

        Assert.Equal(StateRequestKind.BadRequest, ex.Kind);
    }

    [Fact]
    public void OperationKind_Unknown_IsUnsupported()
    {
        var ex = Assert.Throws<StateRequestException>(() => StateService.OperationKind("merge"));

        Assert.Equal(StateRequestKind.Unsupported, ex.Kind);
    }

    [Fact]
    public async Task SaveAsync_StaleEtag_IsEtagMismatchWithTheSaveErrorCode()
    {
        var service = Service;
        await service.SaveAsync(_store, [new StateWrite("k", Encoding.UTF8.GetBytes("1"))], CancellationToken.None);
        var etag = (await service.GetAsync(_store, "k", CancellationToken.None))!.Etag;
        await service.SaveAsync(_store, [new StateWrite("k", Encoding.UTF8.GetBytes("2"), etag)], CancellationToken.None);

        var ex = await Assert.ThrowsAsync<StateRequestException>(() =>
            service.SaveAsync(_store, [new StateWrite("k", Encoding.UTF8.GetBytes("3"), etag)], CancellationToken.None));

        Assert.Equal(StateRequestKind.EtagMismatch, ex.Kind);
        Assert.Equal("ERR_STATE_SAVE", ex.ErrorCode);
        Assert.Equal("2", Encoding.UTF8.GetString((await service.GetAsync(_store, "k", CancellationToken.None))!.Data));
    }

    [Fact]
    public async Task TransactAsync_OneStaleEtag_AppliesNothing()
    {
        var service = Service;
        await service.SaveAsync(_store, [new StateWrite("a", [1])], CancellationToken.None);

        var ex = await Assert.ThrowsAsync<StateRequestException>(() => service.TransactAsync(_store,
            [(StateOperationKind.Upsert, new StateWrite("b", [2])), (StateOperationKind.Delete, new StateWrite("a", Etag: "999"))], CancellationToken.None));

        Assert.Equal("ERR_STATE_TRANSACTION", ex.ErrorCode);
        Assert.Null(await service.GetAsync(_store, "b", CancellationToken.None));
        Assert.NotNull(await service.GetAsync(_store, "a", CancellationToken.None));
    }
}
