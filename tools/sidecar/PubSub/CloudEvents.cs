using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeDapr.Sidecar.PubSub;

/// <summary>Builds CloudEvents 1.0 envelopes the way daprd does (type com.dapr.event.sent, topic, pubsubname, trace fields).</summary>
public static class CloudEvents
{
    public const string ContentType = "application/cloudevents+json";
    public const string DaprEventType = "com.dapr.event.sent";

    /// <summary>Wraps published data, or keeps a published CloudEvent with topic/pubsubname overwritten.</summary>
    public static byte[] Envelope(
        ReadOnlySpan<byte> data,
        string? dataContentType,
        string sourceAppId,
        string pubsubName,
        string topic,
        string traceParent,
        TimeProvider time)
    {
        dataContentType = string.IsNullOrWhiteSpace(dataContentType) ? "text/plain" : dataContentType.Trim();
        JsonObject envelope;
        if (IsCloudEventContentType(dataContentType) && TryParseObject(data, out var published))
        {
            envelope = published;
            envelope.TryAdd("id", Guid.NewGuid().ToString());
            envelope.TryAdd("specversion", "1.0");
            envelope.TryAdd("source", sourceAppId);
            envelope.TryAdd("type", DaprEventType);
            envelope.TryAdd("datacontenttype", "application/json");
            envelope.TryAdd("traceid", traceParent);
            envelope.TryAdd("traceparent", traceParent);
            envelope.TryAdd("tracestate", "");
        }
        else
        {
            envelope = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(),
                ["source"] = sourceAppId,
                ["type"] = DaprEventType,
                ["specversion"] = "1.0",
                ["datacontenttype"] = dataContentType,
                ["traceid"] = traceParent,
                ["traceparent"] = traceParent,
                ["tracestate"] = "",
            };
            SetData(envelope, data, dataContentType);
        }

        envelope["topic"] = topic;
        envelope["pubsubname"] = pubsubName;
        envelope.TryAdd("time", time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", System.Globalization.CultureInfo.InvariantCulture));
        return JsonSerializer.SerializeToUtf8Bytes(envelope);
    }

    /// <summary>Wraps a message that arrived without an envelope (raw payload) for delivery to an app.</summary>
    public static byte[] WrapRaw(ReadOnlySpan<byte> data, string pubsubName, string topic, TimeProvider time)
    {
        var envelope = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["source"] = pubsubName,
            ["type"] = DaprEventType,
            ["specversion"] = "1.0",
            ["datacontenttype"] = "application/octet-stream",
            ["data_base64"] = Convert.ToBase64String(data),
            ["topic"] = topic,
            ["pubsubname"] = pubsubName,
            ["time"] = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", System.Globalization.CultureInfo.InvariantCulture),
        };
        return JsonSerializer.SerializeToUtf8Bytes(envelope);
    }

    /// <summary>True when the bytes are a JSON object carrying "specversion" (a CloudEvent).</summary>
    public static bool IsCloudEvent(ReadOnlySpan<byte> data) =>
        TryParseObject(data, out var value) && value.ContainsKey("specversion");

    public static bool IsJsonContentType(string contentType)
    {
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsCloudEventContentType(string contentType) =>
        contentType.Split(';', 2)[0].Trim().Equals(ContentType, StringComparison.OrdinalIgnoreCase);

    private static void SetData(JsonObject envelope, ReadOnlySpan<byte> data, string contentType)
    {
        if (IsJsonContentType(contentType))
        {
            try
            {
                envelope["data"] = data.IsEmpty ? null : JsonNode.Parse(data);
                return;
            }
            catch (JsonException)
            {
                // Not valid JSON after all: keep it as text, as daprd does.
                envelope["data"] = Encoding.UTF8.GetString(data);
                return;
            }
        }

        if (contentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase) || contentType.Contains("xml", StringComparison.OrdinalIgnoreCase))
        {
            envelope["data"] = Encoding.UTF8.GetString(data);
            return;
        }

        envelope["data_base64"] = Convert.ToBase64String(data);
    }

    private static bool TryParseObject(ReadOnlySpan<byte> data, out JsonObject value)
    {
        value = null!;
        try
        {
            if (JsonNode.Parse(data) is JsonObject obj)
            {
                value = obj;
                return true;
            }
        }
        catch (JsonException)
        {
            // Not JSON.
        }

        return false;
    }
}
