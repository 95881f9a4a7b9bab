using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;

// DaprClient's invocation helpers are marked obsolete in favour of plain HttpClient, yet services still use them.
#pragma warning disable CS0618

namespace MoeDapr.Sidecar.Tests.Conformance;

/// <summary>Service invocation through the sidecar with DaprClient, including a streamed SSE answer.</summary>
public sealed class InvocationTests
{
    public sealed record Echo(string Text, string? Caller, string? Callee, string? Token, string? Query);

    private readonly TaskCompletionSource _secondEventGate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task<TestApp> StartAppAsync() => TestApp.StartAsync(null, app =>
    {
        app.MapPost("/echo/{**rest}", async (HttpContext context, string? rest) =>
        {
            var body = await context.Request.ReadFromJsonAsync<Echo>();
            return Results.Json(new Echo(
                body!.Text + "/" + rest,
                context.Request.Headers["dapr-caller-app-id"].ToString(),
                context.Request.Headers["dapr-callee-app-id"].ToString(),
                context.Request.Headers["dapr-api-token"].ToString(),
                context.Request.QueryString.Value));
        });
        app.MapGet("/status/{code:int}", (int code) => Results.Text("custom", statusCode: code));
        app.MapGet("/events", async (HttpContext context) =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n");
            await context.Response.Body.FlushAsync();

            // The second event is written only after the caller has seen the first one.
            await _secondEventGate.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await context.Response.WriteAsync("data: second\n\n");
        });
        app.MapPost("/size", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            return Results.Text(buffer.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
    });

    [Fact]
    public async Task InvokeMethod_Json_ReachesAppWithDaprHeaders()
    {
        await using var app = await StartAppAsync();
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("echo-app", components, app.Port, o => o.AppApiToken = "app-secret");
        using var client = sidecar.CreateClient();

        var request = client.CreateInvokeMethodRequest<Echo>(HttpMethod.Post, "echo-app", "echo/a/b", [new("x", "1")], new Echo("hi", null, null, null, null));
        var answer = await client.InvokeMethodAsync<Echo>(request);

        Assert.Equal("hi/a/b", answer.Text);
        Assert.Equal("echo-app", answer.Caller);
        Assert.Equal("echo-app", answer.Callee);
        Assert.Equal("app-secret", answer.Token);
        Assert.Equal("?x=1", answer.Query);
    }

    [Fact]
    public async Task InvokeMethod_AppStatusAndBody_ComeBackUnchanged()
    {
        await using var app = await StartAppAsync();
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("echo-app", components, app.Port);
        using var http = DaprClient.CreateInvokeHttpClient("echo-app", sidecar.HttpEndpoint);

        using var response = await http.GetAsync("/status/418");

        Assert.Equal((HttpStatusCode)418, response.StatusCode);
        Assert.Equal("custom", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task InvokeHttpClient_ServerSentEvents_ArriveEventByEvent()
    {
        await using var app = await StartAppAsync();
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("echo-app", components, app.Port);
        using var http = DaprClient.CreateInvokeHttpClient("echo-app", sidecar.HttpEndpoint);

        using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/events"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        // The first event must arrive while the app still holds the second one back.
        var first = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("data: first", first);
        Assert.False(_secondEventGate.Task.IsCompleted);
        _secondEventGate.SetResult();
        Assert.Equal("", await reader.ReadLineAsync());
        Assert.Equal("data: second", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Invoke_AppIdHeaderForm_ReachesApp()
    {
        await using var app = await StartAppAsync();
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("echo-app", components, app.Port);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{sidecar.HttpEndpoint}/echo/h")
        {
            Content = JsonContent.Create(new Echo("hdr", null, null, null, null)),
        };
        request.Headers.Add("dapr-app-id", "echo-app");

        using var response = await http.SendAsync(request);

        Assert.Equal("hdr/h", (await response.Content.ReadFromJsonAsync<Echo>())!.Text);
    }

    [Fact]
    public async Task Invoke_UnknownAppId_AnswersDaprdErrorAndStaysUp()
    {
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("lonely", components);
        using var client = sidecar.CreateClient();

        var ex = await Assert.ThrowsAsync<InvocationException>(() => client.InvokeMethodAsync<string>(HttpMethod.Get, "nobody", "x"));

        Assert.Equal(HttpStatusCode.InternalServerError, ex.Response?.StatusCode);
        var body = await ex.Response!.Content.ReadAsStringAsync();
        Assert.Contains("\"errorCode\":\"ERR_DIRECT_INVOKE\"", body, StringComparison.Ordinal);
        Assert.Contains("nobody", body, StringComparison.Ordinal);
        Assert.True(await client.CheckHealthAsync());
    }

    [Fact]
    public async Task Invoke_BodyOverMaxBodySize_Answers413AndStaysUp()
    {
        await using var app = await StartAppAsync();
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("echo-app", components, app.Port, o => o.MaxBodySize = 64 * 1024);
        using var http = DaprClient.CreateInvokeHttpClient("echo-app", sidecar.HttpEndpoint);

        using var tooLarge = await http.PostAsync("/size", new ByteArrayContent(new byte[65 * 1024]));
        using var fits = await http.PostAsync("/size", new ByteArrayContent(new byte[60 * 1024]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal((60 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), await fits.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Invoke_StreamedRequestBody_ReachesAppWhole()
    {
        await using var app = await StartAppAsync();
        using var components = Components.Create("memory");
        await using var sidecar = await Sidecars.StartAsync("echo-app", components, app.Port);
        using var http = DaprClient.CreateInvokeHttpClient("echo-app", sidecar.HttpEndpoint);
        var payload = Encoding.UTF8.GetBytes(new string('x', 300_000));

        // No Content-Length: the body goes through chunked, as a streaming client sends it.
        using var content = new StreamContent(new MemoryStream(payload));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/size") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await http.SendAsync(request);

        Assert.Equal("300000", await response.Content.ReadAsStringAsync());
    }
}
