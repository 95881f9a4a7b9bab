using System.Text.Json.Serialization;

namespace MoeDapr.Contracts.KvTransfer;

/// <summary>How KV bytes move between a service and kv-transfer's staging memory.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<KvDataPlane>))]
public enum KvDataPlane
{
    /// <summary>Same host: both sides map kv-transfer's staging file under /dev/shm.</summary>
    SharedMemory,

    /// <summary>Any host: framed TCP push/pull against kv-transfer's data-plane port.</summary>
    Socket,
}
