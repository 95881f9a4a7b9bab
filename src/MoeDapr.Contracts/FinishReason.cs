using System.Text.Json.Serialization;

namespace MoeDapr.Contracts;

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
