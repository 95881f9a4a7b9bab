using System.Text.Json.Serialization;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>Element type of KV bytes.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KvDtype>))]
public enum KvDtype : ushort
{
    Float32 = 0,
    Float16 = 1,
    BFloat16 = 2,
}
