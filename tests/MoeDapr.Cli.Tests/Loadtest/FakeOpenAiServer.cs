using System.Net;
using System.Text;

namespace MoeDapr.Cli.Tests.Loadtest;

/// <summary>How the fake server answers one request.</summary>
internal sealed record FakeAnswer
{
    public int Status { get; init; } = 200;

    public TimeSpan FirstTokenDelay { get; init; }

    public int Tokens { get; init; } = 5;

    public TimeSpan TokenGap { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Never answer (until the server is disposed).</summary>
    public bool Hang { get; init; }
}

/// <summary>
/// A real HTTP server on a loopback port that speaks enough of OpenAI's <c>/v1/completions</c> (JSON and SSE) and
/// <c>/v1/models</c> for the load tester, answering each request by its arrival number, and counting what it answered.
/// </summary>
internal sealed class FakeOpenAiServer : IAsyncDisposable
{
    public const string ModelId = "fake-moe";

    private readonly HttpListener _listener;
    private readonly Func<int, FakeAnswer> _plan;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private int _requests;
    private int _rejected;
    private int _unavailable;
    private int _completed;
    private int _slowCompleted;
    private int _inFlight;
    private int _maxInFlight;

    private FakeOpenAiServer(HttpListener listener, Uri baseUrl, Func<int, FakeAnswer> plan)
    {
        _listener = listener;
        _plan = plan;
        BaseUrl = baseUrl;
        _acceptLoop = Task.Run(AcceptAsync);
    }

    public Uri BaseUrl { get; }

    public int Requests => Volatile.Read(ref _requests);

    public int Rejected => Volatile.Read(ref _rejected);

    public int Unavailable => Volatile.Read(ref _unavailable);

    public int Completed => Volatile.Read(ref _completed);

    /// <summary>Completed requests whose first token was delayed by the plan.</summary>
    public int SlowCompleted => Volatile.Read(ref _slowCompleted);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>The body of the most recent completion request.</summary>
    public JsonNode? LastRequest { get; private set; }

    public static FakeOpenAiServer Start(Func<int, FakeAnswer> plan)
    {
        // HttpListener cannot bind port 0: borrow a free port from the OS, retrying if another process takes it first.
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort.Next();
            var listener = new HttpListener();
            var prefix = $"http://127.0.0.1:{port}/";
            listener.Prefixes.Add(prefix);
            try
            {
                listener.Start();
                return new FakeOpenAiServer(listener, new Uri(prefix), plan);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        try
        {
            await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is ObjectDisposedException or HttpListenerException or InvalidOperationException)
        {
            // The listener was closed under the pending accept.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is ObjectDisposedException or HttpListenerException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            switch (context.Request.Url?.AbsolutePath)
            {
                case "/v1/models":
                    await WriteJsonAsync(response, 200, new JsonObject { ["object"] = "list", ["data"] = new JsonArray(new JsonObject { ["id"] = ModelId }) });
                    return;
                case "/v1/completions" when context.Request.HttpMethod == "POST":
                    await CompleteAsync(context);
                    return;
                default:
                    await WriteJsonAsync(response, 404, Error("not found"));
                    return;
            }
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // The client went away (its own deadline) or the server is shutting down.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // Already closed by an aborted connection.
            }
        }
    }

    private async Task CompleteAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = JsonNode.Parse(await reader.ReadToEndAsync(_stop.Token));
        LastRequest = body;
        var answer = _plan(Interlocked.Increment(ref _requests) - 1);
        var inFlight = Interlocked.Increment(ref _inFlight);
        UpdateMax(inFlight);
        var left = false;

        // Counted before the last bytes go out: a client that has read the whole answer finds it counted, and its
        // next request never overlaps this one in the in-flight count.
        void Leave()
        {
            if (!left)
            {
                left = true;
                Interlocked.Decrement(ref _inFlight);
            }
        }

        void Complete()
        {
            Interlocked.Increment(ref _completed);
            if (answer.FirstTokenDelay > TimeSpan.Zero)
            {
                Interlocked.Increment(ref _slowCompleted);
            }

            Leave();
        }

        try
        {
            if (answer.Hang)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }

            if (answer.Status == 429)
            {
                Leave();
                Interlocked.Increment(ref _rejected);
                context.Response.Headers["Retry-After"] = "1";
                await WriteJsonAsync(context.Response, 429, Error("queue full"));
                return;
            }

            if (answer.Status != 200)
            {
                Leave();
                if (answer.Status == 503)
                {
                    Interlocked.Increment(ref _unavailable);
                }

                await WriteJsonAsync(context.Response, answer.Status, Error($"status {answer.Status}"));
                return;
            }

            await Task.Delay(answer.FirstTokenDelay, _stop.Token);
            if (body?["stream"]?.GetValue<bool>() == true)
            {
                await StreamAsync(context.Response, answer, Complete);
            }
            else
            {
                Complete();
                await WriteJsonAsync(context.Response, 200, new JsonObject
                {
                    ["object"] = "text_completion",
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["text"] = string.Concat(Enumerable.Repeat(" tok", answer.Tokens)) }),
                    ["usage"] = new JsonObject { ["prompt_tokens"] = 3, ["completion_tokens"] = answer.Tokens },
                });
            }
        }
        finally
        {
            Leave();
        }
    }

    private async Task StreamAsync(HttpListenerResponse response, FakeAnswer answer, Action complete)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.SendChunked = true;
        var output = response.OutputStream;
        for (var token = 0; token < answer.Tokens; token++)
        {
            if (token > 0)
            {
                await Task.Delay(answer.TokenGap, _stop.Token);
            }

            var chunk = new JsonObject
            {
                ["object"] = "text_completion",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["text"] = $" tok{token}" }),
            };
            await WriteEventAsync(output, chunk.ToJsonString());
        }

        complete();
        await WriteEventAsync(output, "[DONE]");
    }

    private async Task WriteEventAsync(Stream output, string data)
    {
        var bytes = Encoding.UTF8.GetBytes($"data: {data}\n\n");
        await output.WriteAsync(bytes, _stop.Token);
        await output.FlushAsync(_stop.Token);
    }

    private async Task WriteJsonAsync(HttpListenerResponse response, int status, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes, _stop.Token);
    }

    private static JsonObject Error(string message) => new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = "fake" } };

    private void UpdateMax(int inFlight)
    {
        var seen = Volatile.Read(ref _maxInFlight);
        while (inFlight > seen)
        {
            var previous = Interlocked.CompareExchange(ref _maxInFlight, inFlight, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
