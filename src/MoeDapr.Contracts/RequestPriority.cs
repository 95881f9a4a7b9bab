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
