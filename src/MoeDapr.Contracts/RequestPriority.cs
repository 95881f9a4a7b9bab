using System.Text.Json.Serialization;

namespace MoeDapr.Contracts;

/// <summary>Admission class of a request; under overload low is shed first, high last.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RequestPriority>))]
public enum RequestPriority
{
    [JsonStringEnumMemberName("high")]
    High = 0,

    [JsonStringEnumMemberName("normal")]
    Normal = 1,

    [JsonStringEnumMemberName("low")]
    Low = 2,
}

/// <summary>Why a sequence ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FinishReason>))]
public enum FinishReason
{
    /// <summary>An EOS token, a stop token id or a stop string.</summary>
    [JsonStringEnumMemberName("stop")]
    Stop,

    /// <summary><see cref="SamplingParams.MaxTokens"/> reached.</summary>
    [JsonStringEnumMemberName("length")]
    Length,

    /// <summary>Cancelled by the caller or past its deadline.</summary>
    [JsonStringEnumMemberName("abort")]
    Abort,
}

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
