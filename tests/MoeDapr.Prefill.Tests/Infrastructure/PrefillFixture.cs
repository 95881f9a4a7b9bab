namespace MoeDapr.Prefill.Tests.Infrastructure;

/// <summary>kv-transfer and one prefill service on a tiny checkpoint, loaded once and shared by a test class.</summary>
public sealed class PrefillFixture : IAsyncLifetime
{
    /// <summary><c>Worker:MaxBatchSequences</c> of this prefill.</summary>
    public const int MaxBatchSequences = 4;

    public TinyCheckpoint Checkpoint { get; } = new();

    public KvTransferServer KvTransfer { get; } = new();

    public HttpClient KvTransferClient { get; private set; } = null!;

    public PrefillFactory Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        KvTransferClient = KvTransfer.CreateClient();
        Factory = new PrefillFactory(Checkpoint.Path, KvTransfer, new Dictionary<string, string>
        {
            ["Worker:MaxBatchSequences"] = MaxBatchSequences.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Client = Factory.CreateClient();
        await Client.WaitUntilReadyAsync("prefill");
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
        KvTransferClient.Dispose();
        await KvTransfer.DisposeAsync();
        Checkpoint.Dispose();
    }
}
