namespace MoeDapr.Sidecar.Api;

/// <summary>The error body's shape.</summary>
public sealed record ErrorBody(
    [property: System.Text.Json.Serialization.JsonPropertyName("errorCode")] string ErrorCode,
    [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message);
