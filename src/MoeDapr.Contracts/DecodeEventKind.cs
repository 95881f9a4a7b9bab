using System.Text.Json.Serialization;

namespace MoeDapr.Contracts;

/// <summary>Kinds of lines in a decode stream.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DecodeEventKind>))]
public enum DecodeEventKind
{
    /// <summary>One generated token.</summary>
    [JsonStringEnumMemberName("token")]
    Token,

    /// <summary>The sequence ended normally; always the last line.</summary>
    [JsonStringEnumMemberName("done")]
    Done,

    /// <summary>The sequence failed; always the last line.</summary>
    [JsonStringEnumMemberName("error")]
    Error,
}
