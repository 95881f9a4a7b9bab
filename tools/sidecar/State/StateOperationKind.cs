namespace MoeDapr.Sidecar.State;

/// <summary>What a transaction or a single write does to one key.</summary>
public enum StateOperationKind
{
    Upsert,
    Delete,
}
