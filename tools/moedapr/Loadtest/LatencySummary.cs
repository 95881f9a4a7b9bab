using System.Text.Json.Serialization;

namespace MoeDapr.Cli.Loadtest;

/// <summary>Mean and percentiles of one latency, in milliseconds.</summary>
public sealed record LatencySummary(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("mean")] double Mean,
    [property: JsonPropertyName("p50")] double P50,
    [property: JsonPropertyName("p90")] double P90,
    [property: JsonPropertyName("p99")] double P99,
    [property: JsonPropertyName("max")] double Max);
