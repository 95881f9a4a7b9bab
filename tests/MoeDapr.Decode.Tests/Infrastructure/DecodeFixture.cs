namespace MoeDapr.Decode.Tests.Infrastructure;

/// <summary>One decode service on a tiny checkpoint, loaded once and shared by a test class.</summary>
public sealed class DecodeFixture : IAsyncLifetime
{
    public TinyCheckpoint Checkpoint { get; } = new();

    public DecodeFactory Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>Prompt plus output tokens at most: the checkpoint's <c>max_position_embeddings</c> (no <c>Engine:MaxSequenceLength</c> set).</summary>
    public int ContextLength => Checkpoint.Config.MaxPositionEmbeddings;

    public async Task InitializeAsync()
    {
        Factory = new DecodeFactory(Checkpoint.Path);
        Client = Factory.CreateClient();
        await Client.WaitUntilReadyAsync("decode");
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        Checkpoint.Dispose();
    }
}
