using System.Text.Json.Serialization;

namespace MoeDapr.Contracts;

/// <summary>The role a worker plays; carried by its load snapshots.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WorkerRole>))]
public enum WorkerRole
{
    [JsonStringEnumMemberName("prefill")]
    Prefill,

    [JsonStringEnumMemberName("decode")]
    Decode,

    [JsonStringEnumMemberName("kv-transfer")]
    KvTransfer,
}
