using System.Text.Json.Serialization;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Where an allocation is in its life.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KvAllocationState>))]
public enum KvAllocationState
{
    /// <summary>Space reserved; the producer is writing.</summary>
    Allocated,

    /// <summary>Bytes verified against their checksum; readable.</summary>
    Committed,

    /// <summary>A transfer was short or corrupted; the bytes must never be used.</summary>
    Failed,
}
