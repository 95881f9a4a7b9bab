using System.Globalization;
namespace MoeDapr.Sidecar.State;

/// <summary>
/// The state API behind both protocols: store lookup, key prefixes, get and bulk get, save, delete and transactions,
/// and daprd's etag, concurrency and TTL rules. The HTTP and gRPC APIs only translate their requests into
/// <see cref="StateWrite"/>s and <see cref="StateRequestException"/>s into their statuses.
/// </summary>
public sealed class StateService(IReadOnlyDictionary<string, IStateStore> stores, string appId)
{
    /// <summary>The store named <paramref name="name"/>; throws a <see cref="StateRequestException"/> when there is none.</summary>
    public IStateStore Store(string name)
    {
        if (stores.Count == 0)
        {
            throw new StateRequestException(StateRequestKind.StoreNotConfigured, "ERR_STATE_STORE_NOT_CONFIGURED", "state store is not configured");
        }

        return stores.TryGetValue(name, out var store)
            ? store
            : throw new StateRequestException(StateRequestKind.StoreNotFound, "ERR_STATE_STORE_NOT_FOUND", $"state store {name} is not found");
    }

    /// <summary>The value and etag of the caller's <paramref name="key"/>, or null when it is not stored.</summary>
    public Task<StateEntry?> GetAsync(IStateStore store, string key, CancellationToken cancellationToken) =>
        store.GetAsync(StateKeys.For(store, appId, key), cancellationToken);

    /// <summary>Every key in order, with its entry or null.</summary>
    public async Task<IReadOnlyList<(string Key, StateEntry? Entry)>> GetBulkAsync(IStateStore store, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var results = new List<(string, StateEntry?)>();
        foreach (var key in keys)
        {
            results.Add((key, await GetAsync(store, key, cancellationToken)));
        }

        return results;
    }

    /// <summary>Saves the items one by one, as daprd's bulk set does: each etag is checked, and the first mismatch stops.</summary>
    public async Task SaveAsync(IStateStore store, IEnumerable<StateWrite> items, CancellationToken cancellationToken)
    {
        var operations = items.Select(i => ToOperation(store, StateOperationKind.Upsert, i)).ToList();
        foreach (var operation in operations)
        {
            await ExecuteAsync(store, [operation], "ERR_STATE_SAVE",
                ex => $"failed saving state in state store {store.Name}: possible etag mismatch. error from state store: {ex.Message}", cancellationToken);
        }
    }

    /// <summary>Deletes the items one by one (a bulk delete is one delete per item); each etag is checked.</summary>
    public async Task DeleteAsync(IStateStore store, IEnumerable<StateWrite> items, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            var operation = ToOperation(store, StateOperationKind.Delete, item);
            await ExecuteAsync(store, [operation], "ERR_STATE_DELETE",
                ex => $"failed deleting state with key {item.Key}: possible etag mismatch. error from state store: {ex.Message}", cancellationToken);
        }
    }

    /// <summary>Applies all <paramref name="operations"/> or none.</summary>
    public Task TransactAsync(IStateStore store, IEnumerable<(StateOperationKind Kind, StateWrite Write)> operations, CancellationToken cancellationToken) =>
        ExecuteAsync(store, operations.Select(o => ToOperation(store, o.Kind, o.Write)).ToList(), "ERR_STATE_TRANSACTION",
            ex => $"error while executing state transaction: possible etag mismatch. error from state store: {ex.Message}", cancellationToken);

    /// <summary>The operation kind of a transaction entry ("upsert" or "delete").</summary>
    public static StateOperationKind OperationKind(string? name) => name switch
    {
        "upsert" => StateOperationKind.Upsert,
        "delete" => StateOperationKind.Delete,
        var other => throw new StateRequestException(StateRequestKind.Unsupported, "ERR_MALFORMED_REQUEST", $"operation type {other} not supported"),
    };

    /// <summary>daprd's write rules: a key is required, last-write drops the etag, first-write demands one, ttlInSeconds is a number.</summary>
    public StateOperation ToOperation(IStateStore store, StateOperationKind kind, StateWrite write)
    {
        if (string.IsNullOrEmpty(write.Key))
        {
            throw new StateRequestException(StateRequestKind.BadRequest, "ERR_MALFORMED_REQUEST", "state key cannot be empty");
        }

        TimeSpan? ttl = null;
        if (write.TtlInSeconds is { } ttlText)
        {
            if (!double.TryParse(ttlText, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                throw new StateRequestException(StateRequestKind.BadRequest, "ERR_MALFORMED_REQUEST", $"metadata ttlInSeconds '{ttlText}' is not a number");
            }

            ttl = TimeSpan.FromSeconds(seconds);
        }

        var etag = write.Concurrency == StateConcurrency.LastWrite || string.IsNullOrEmpty(write.Etag) ? null : write.Etag;
        return new StateOperation(kind, StateKeys.For(store, appId, write.Key),
            kind == StateOperationKind.Upsert ? write.Value : null, etag, write.Concurrency == StateConcurrency.FirstWrite, ttl);
    }

    private static async Task ExecuteAsync(
        IStateStore store, IReadOnlyList<StateOperation> operations, string errorCode, Func<StateEtagMismatchException, string> describe, CancellationToken cancellationToken)
    {
        try
        {
            await store.ExecuteAsync(operations, cancellationToken);
        }
        catch (StateEtagMismatchException ex)
        {
            throw new StateRequestException(StateRequestKind.EtagMismatch, errorCode, describe(ex));
        }
    }
}
