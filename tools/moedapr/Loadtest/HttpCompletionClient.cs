using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MoeDapr.Cli.Loadtest;

/// <summary>
/// Calls an OpenAI-compatible <c>/v1/completions</c>; with streaming, reads the SSE chunks and times the first token
/// and the gaps between tokens.
/// </summary>
public sealed class HttpCompletionClient : ICompletionClient
{
    // Error bodies are read only this far: enough for a message, bounded however large the server makes them.
    private const int MaxErrorBodyChars = 2048;

    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly string _model;
    private readonly int _maxTokens;
    private readonly bool _stream;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public HttpCompletionClient(HttpClient http, Uri url, string model, int maxTokens, bool stream, TimeSpan timeout, TimeProvider time)
    {
        _http = http;
        _url = url;
        _model = model;
        _maxTokens = maxTokens;
        _stream = stream;
        _timeout = timeout;
        _time = time;
    }

    /// <summary>A handler fit for load: no connection cap, connections recycled so DNS changes are seen.</summary>
    public static HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        MaxConnectionsPerServer = int.MaxValue,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        // Each request carries its own deadline.
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>The first model id the server lists at <paramref name="modelsUrl"/>, or null when it lists none or cannot be reached.</summary>
    public static async Task<string?> DiscoverModelAsync(HttpClient http, Uri modelsUrl, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.GetAsync(modelsUrl, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            return JsonNode.Parse(body)?["data"]?[0]?["id"]?.GetValue<string>();
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<CompletionResult> SendAsync(string prompt, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var token = linked.Token;
        var start = _time.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = Body(prompt) };
            if (_stream)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
            }

            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            var status = (int)response.StatusCode;
            switch (response.StatusCode)
            {
                case HttpStatusCode.TooManyRequests:
                    return new CompletionResult { Outcome = RequestOutcome.Rejected, Status = status, E2eMs = ElapsedMs(start) };
                case HttpStatusCode.ServiceUnavailable:
                    return new CompletionResult { Outcome = RequestOutcome.TimedOut, Status = status, E2eMs = ElapsedMs(start) };
                case var _ when !response.IsSuccessStatusCode:
                    return Failed(start, status, $"http {status}: {await ErrorMessageAsync(response, token)}");
            }

            return _stream ? await ReadStreamAsync(response, start, token) : await ReadWholeAsync(response, start, token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return Failed(start, null, $"client timeout after {_timeout.TotalSeconds:0.###} s");
        }
        catch (OperationCanceledException)
        {
            return Failed(start, null, "cancelled");
        }
        catch (HttpRequestException e)
        {
            return Failed(start, null, $"connection: {e.HttpRequestError}");
        }
        catch (IOException)
        {
            return Failed(start, null, "connection: response cut off");
        }
        catch (JsonException)
        {
            return Failed(start, 200, "malformed response body");
        }
    }

    private async Task<CompletionResult> ReadStreamAsync(HttpResponseMessage response, long start, CancellationToken token)
    {
        await using var body = await response.Content.ReadAsStreamAsync(token);
        using var reader = new StreamReader(body, Encoding.UTF8);
        long? first = null;
        long last = 0;
        var gaps = new List<double>();
        var chunks = 0;
        int? usageTokens = null;
        var done = false;
        while (await reader.ReadLineAsync(token) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line.AsSpan(5).Trim();
            if (data.SequenceEqual("[DONE]"))
            {
                done = true;
                break;
            }

            var chunk = JsonNode.Parse(data.ToString());
            if (chunk?["error"] is { } error)
            {
                return Failed(start, 200, $"stream error: {error["message"]?.ToString() ?? error.ToJsonString()}");
            }

            usageTokens = UsageTokens(chunk) ?? usageTokens;
            if (string.IsNullOrEmpty(ChoiceText(chunk)))
            {
                continue;
            }

            var now = _time.GetTimestamp();
            if (first is null)
            {
                first = now;
            }
            else
            {
                gaps.Add(_time.GetElapsedTime(last, now).TotalMilliseconds);
            }

            last = now;
            chunks++;
        }

        if (!done)
        {
            return Failed(start, 200, "stream ended before [DONE]");
        }

        return new CompletionResult
        {
            Outcome = RequestOutcome.Ok,
            Status = 200,
            TtftMs = first is { } f ? _time.GetElapsedTime(start, f).TotalMilliseconds : null,
            E2eMs = ElapsedMs(start),
            OutputTokens = usageTokens ?? chunks,
            ItlMs = gaps,
        };
    }

    private async Task<CompletionResult> ReadWholeAsync(HttpResponseMessage response, long start, CancellationToken token)
    {
        var body = await response.Content.ReadAsStringAsync(token);
        var json = JsonNode.Parse(body);
        var end = ElapsedMs(start);
        if (json?["choices"] is not JsonArray)
        {
            return Failed(start, (int)response.StatusCode, "response has no choices");
        }

        return new CompletionResult
        {
            Outcome = RequestOutcome.Ok,
            Status = (int)response.StatusCode,
            E2eMs = end,
            OutputTokens = UsageTokens(json) ?? 0,
        };
    }

    private StringContent Body(string prompt)
    {
        var body = new JsonObject
        {
            ["model"] = _model,
            ["prompt"] = prompt,
            ["max_tokens"] = _maxTokens,
            ["stream"] = _stream,
        };
        return new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
    }

    private static string? ChoiceText(JsonNode? chunk)
    {
        var choice = chunk?["choices"]?[0];
        // /v1/completions streams "text"; chat-style servers stream "delta.content".
        return choice?["text"]?.GetValue<string>() ?? choice?["delta"]?["content"]?.GetValue<string>();
    }

    private static int? UsageTokens(JsonNode? json) =>
        json?["usage"] is JsonObject usage && usage["completion_tokens"] is JsonValue tokens && tokens.TryGetValue<int>(out var count)
            ? count
            : null;

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, CancellationToken token)
    {
        var buffer = new char[MaxErrorBodyChars];
        await using var body = await response.Content.ReadAsStreamAsync(token);
        using var reader = new StreamReader(body);
        var read = await reader.ReadBlockAsync(buffer, token);
        var text = new string(buffer, 0, read);
        try
        {
            return JsonNode.Parse(text)?["error"]?["message"]?.GetValue<string>() ?? text;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private CompletionResult Failed(long start, int? status, string error) =>
        new() { Outcome = RequestOutcome.Failed, Status = status, Error = error, E2eMs = ElapsedMs(start) };

    private double ElapsedMs(long start) => _time.GetElapsedTime(start).TotalMilliseconds;
}
