using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MoeDapr.Router.Workers;

namespace MoeDapr.Router.Tests.Workers;

/// <summary>The Dapr invocation client against a sidecar stand-in on a real socket (Dapr's /v1.0/invoke routes).</summary>
public sealed class DaprWorkerClientTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _releaseLastToken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _decodeAborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _sidecar = null!;
    private DaprWorkerClient _client = null!;
    private HttpClient _http = null!;

    public List<string> Paths { get; } = [];

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _sidecar = builder.Build();
        _sidecar.MapPost("/v1.0/invoke/{app}/method/prefill/batch", async (string app, HttpContext context) =>
        {
            Paths.Add(context.Request.Path);
            if (app == "busy")
            {
                return Results.StatusCode(429);
            }

            if (app == "picky")
            {
                return Results.Problem("bad tokens", statusCode: 400);
            }

            var request = (await context.Request.ReadFromJsonAsync<PrefillBatchRequest>(ContractJson.Options))!;
            return Results.Json(new PrefillBatchResponse
            {
                BatchId = request.BatchId,
                WorkerAppId = app,
                Results = request.Sequences.Select(s => new PrefillSequenceResult { RequestId = s.RequestId, FirstToken = new TokenSample { TokenId = s.PromptTokenIds.Count }, KvHandle = "h" }).ToArray(),
            }, ContractJson.Options);
        });
        _sidecar.MapPost("/v1.0/invoke/{app}/method/decode/generate", async (HttpContext context) =>
        {
            context.RequestAborted.Register(() => _decodeAborted.TrySetResult());
            context.Response.ContentType = DecodeStream.ContentType;
            await DecodeStream.WriteAsync(context.Response.Body, DecodeStreamEvent.ForToken(1, new TokenSample { TokenId = 5 }), context.RequestAborted);
            await _releaseLastToken.Task.WaitAsync(context.RequestAborted);
            await DecodeStream.WriteAsync(context.Response.Body, DecodeStreamEvent.ForToken(2, new TokenSample { TokenId = 6 }), context.RequestAborted);
            await DecodeStream.WriteAsync(context.Response.Body, DecodeStreamEvent.ForDone(FinishReason.Length, 3, 3, 0), context.RequestAborted);
        });
        _sidecar.MapGet("/v1.0/invoke/{app}/method/health/ready", (string app) => app == "kv-transfer" ? Results.Ok() : Results.StatusCode(503));
        await _sidecar.StartAsync();
        var address = _sidecar.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _http = DaprClient.CreateInvokeHttpClient(daprEndpoint: address);
        _client = new DaprWorkerClient(_http);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _sidecar.DisposeAsync();
    }

    private static DecodeRequest Decode() => new() { RequestId = "r1", PromptTokenIds = [1, 2, 3], Sampling = new SamplingParams { MaxTokens = 3 } };

    [Fact]
    public async Task PrefillAsync_ThroughTheSidecar_ReachesTheWorkerMethodOfThatAppId()
    {
        var response = await _client.PrefillAsync("prefill-2", new PrefillBatchRequest
        {
            BatchId = "b1",
            Sequences = [new PrefillSequence { RequestId = "r1", PromptTokenIds = [1, 2, 3, 4], Sampling = new SamplingParams() }],
        }, default);

        Assert.Equal("/v1.0/invoke/prefill-2/method/prefill/batch", Assert.Single(Paths));
        Assert.Equal("prefill-2", response.WorkerAppId);
        Assert.Equal(4, response.Results[0].FirstToken!.TokenId);
    }

    [Theory]
    [InlineData("busy", WorkerError.Saturated, true)]
    [InlineData("picky", WorkerError.InvalidRequest, false)]
    public async Task PrefillAsync_WorkerRefuses_ThrowsWithCodeAndRetryability(string app, string code, bool retryable)
    {
        var request = new PrefillBatchRequest { BatchId = "b", Sequences = [] };

        var error = await Assert.ThrowsAsync<WorkerCallException>(() => _client.PrefillAsync(app, request, default));

        Assert.Equal(code, error.Code);
        Assert.Equal(retryable, error.Retryable);
    }

    [Fact]
    public async Task DecodeAsync_StreamedAnswer_FirstTokenArrivesBeforeTheWorkerWritesTheRest()
    {
        var events = _client.DecodeAsync("decode", Decode(), default).GetAsyncEnumerator();

        Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(5, events.Current.Token!.TokenId);
        _releaseLastToken.SetResult();
        var rest = new List<DecodeStreamEvent>();
        while (await events.MoveNextAsync())
        {
            rest.Add(events.Current);
        }

        Assert.Equal([DecodeEventKind.Token, DecodeEventKind.Done], rest.Select(e => e.Kind));
        await events.DisposeAsync();
    }

    [Fact]
    public async Task DecodeAsync_CallerCancels_TheWorkerSeesTheRequestAborted()
    {
        using var cts = new CancellationTokenSource();
        var events = _client.DecodeAsync("decode", Decode(), cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await events.MoveNextAsync());

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await events.MoveNextAsync());
        await events.DisposeAsync();

        await _decodeAborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task IsReadyAsync_ReadyAndNotReadyApps_AreTold()
    {
        Assert.True(await _client.IsReadyAsync("kv-transfer", default));
        Assert.False(await _client.IsReadyAsync("prefill", default));
    }
}
