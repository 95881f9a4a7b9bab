using MoeDapr.Contracts.KvTransfer;

namespace MoeDapr.KvTransfer;

/// <summary>Outcome of a store operation: a value, or the reason it was refused with a human-readable detail.</summary>
public readonly record struct KvStoreResult<T>(T? Value, KvTransferErrorReason? Error, string? Detail)
{
    public static KvStoreResult<T> Ok(T value) => new(value, null, null);

    public static KvStoreResult<T> Fail(KvTransferErrorReason error, string detail) => new(default, error, detail);
}
