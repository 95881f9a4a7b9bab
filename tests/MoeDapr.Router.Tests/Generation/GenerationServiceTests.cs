using MoeDapr.Router.Generation;

namespace MoeDapr.Router.Tests.Generation;

/// <summary>The decode slot the dispatcher leased for a request is given back whatever happens before it is used.</summary>
public sealed class GenerationServiceTests : IDisposable
{
    private readonly RouterFactory _factory = new();

    public GenerationServiceTests() => _factory.AnnounceDefaultWorkers();

    public void Dispose() => _factory.Dispose();

    private GenerationService Service => _factory.Services.GetRequiredService<GenerationService>();

    private int DecodeInFlight => _factory.Registry.List().Single(w => w.AppId == AppIds.Decode).InFlight;

    private static GenerationRequest Request(int promptTokens, bool stream = false) => new()
    {
        Kind = ApiKind.Completion,
        Model = RouterFactory.ModelName,
        PromptTokenIds = [.. Enumerable.Range(3, promptTokens)],
        Sampling = new SamplingParams { MaxTokens = 4 },
        Stream = stream,
    };

    private Task<(GenerationSession? Session, ApiError? Error)> StartAsync(GenerationRequest request, CancellationToken clientGone) =>
        Service.StartAsync(request, Guid.NewGuid().ToString("N"), TimeProvider.System.GetTimestamp(), clientGone);

    [Fact]
    public async Task StartAsync_ClientGoneWhileTheDecodeCallOpens_ReleasesTheDecodeSlot()
    {
        _factory.Workers.DecodeGate = new TaskCompletionSource();
        using var client = new CancellationTokenSource();

        var start = StartAsync(Request(4), client.Token);
        await Poll.UntilAsync(() => !_factory.Workers.DecodeCalls.IsEmpty, "the decode call to open");
        Assert.Equal(1, DecodeInFlight);
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start);
        Assert.Equal(0, DecodeInFlight);
    }

    [Fact]
    public async Task StartAsync_DecodeClientThrowsAnUnexpectedFault_ReleasesTheDecodeSlot()
    {
        _factory.Workers.DecodeFault = new InvalidOperationException("scripted fault");

        await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(Request(4), CancellationToken.None));

        Assert.Single(_factory.Workers.DecodeCalls);
        Assert.Equal(0, DecodeInFlight);
    }

    [Fact]
    public async Task DisposeAsync_StreamedSessionEndedBeforeItsDecodeCallOpened_ReleasesTheDecodeSlot()
    {
        var (session, error) = await StartAsync(Request(40, stream: true), CancellationToken.None);
        Assert.Null(error);
        Assert.Equal(ServingPaths.Disaggregated, session!.Path);
        Assert.Equal(1, DecodeInFlight); // leased at dispatch, for the call that opens once the first token went out

        await session.DisposeAsync();

        Assert.Empty(_factory.Workers.DecodeCalls);
        Assert.Equal(0, DecodeInFlight);
    }
}
