using System.Text;
using System.Text.Json;
using MoeDapr.Contracts;

namespace MoeDapr.Contracts.Tests;

public sealed class ContractsTests
{
    [Fact]
    public async Task ReadAllAsync_WrittenEvents_RoundTripInOrder()
    {
        using var stream = new MemoryStream();
        await DecodeStream.WriteAsync(stream, DecodeStreamEvent.ForToken(1, new TokenSample { TokenId = 42, Logprob = -0.25f, TopLogprobs = [new(42, -0.25f)] }), default);
        await DecodeStream.WriteAsync(stream, DecodeStreamEvent.ForDone(FinishReason.Length, 12, 2, 4), default);
        stream.Position = 0;

        var events = await ReadAll(stream);

        Assert.Equal(2, events.Count);
        Assert.Equal(42, events[0].Token!.TokenId);
        Assert.Equal(-0.25f, events[0].Token!.TopLogprobs![0].Logprob);
        Assert.Equal(DecodeEventKind.Done, events[1].Kind);
        Assert.Equal(FinishReason.Length, events[1].FinishReason);
        Assert.Equal(4, events[1].CachedTokens);
    }

    [Fact]
    public void Serialize_DecodeEvents_UseTheDocumentedWireNames()
    {
        var token = JsonSerializer.Serialize(DecodeStreamEvent.ForToken(1, new TokenSample { TokenId = 42, Logprob = -0.31f }), ContractJson.Options);
        var done = JsonSerializer.Serialize(DecodeStreamEvent.ForDone(FinishReason.Length, 12, 16, 0), ContractJson.Options);
        var error = JsonSerializer.Serialize(DecodeStreamEvent.ForError(WorkerError.KvNotFound, "expired"), ContractJson.Options);

        Assert.Equal("""{"event":"token","index":1,"token":{"tokenId":42,"logprob":-0.31}}""", token);
        Assert.Equal("""{"event":"done","finishReason":"length","promptTokens":12,"completionTokens":16,"cachedTokens":0}""", done);
        Assert.Equal("""{"event":"error","error":{"code":"kv_not_found","message":"expired"}}""", error);
    }

    [Fact]
    public async Task ReadAllAsync_LineSplitAcrossReadsAndNoFinalNewline_StillParses()
    {
        var text = "{\"event\":\"token\",\"index\":0,\"token\":{\"tokenId\":7}}\n\n{\"event\":\"done\",\"finishReason\":\"stop\"}";
        using var stream = new TrickleStream(Encoding.UTF8.GetBytes(text), chunk: 5);

        var events = await ReadAll(stream);

        Assert.Equal([DecodeEventKind.Token, DecodeEventKind.Done], events.Select(e => e.Kind));
    }

    [Fact]
    public async Task ReadAllAsync_GarbageOrCutOffLine_ThrowsInvalidData()
    {
        using var garbage = new MemoryStream(Encoding.UTF8.GetBytes("not json\n"));
        using var cut = new MemoryStream(Encoding.UTF8.GetBytes("{\"event\":\"tok"));

        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAll(garbage));
        await Assert.ThrowsAsync<InvalidDataException>(() => ReadAll(cut));
    }

    [Fact]
    public void Deserialize_SnapshotFromAnotherService_ReadsEveryField()
    {
        const string json = """
            {"appId":"decode-2","role":"decode","instanceId":"a1","sequence":9,"timestampUnixMs":1700000000000,"intervalMs":1000,
             "model":"m","accepting":true,"queuedRequests":3,"queuedTokens":300,"runningSequences":5,"maxRunningSequences":64,
             "kvBlocksUsed":50,"kvBlocksTotal":200,"utilization":0.5,"tokensPerSecond":120.5,"blockSize":16,
             "cachedBlockHashes":["000000000000000000000000000000ff"]}
            """;

        var snapshot = JsonSerializer.Deserialize<WorkerLoadSnapshot>(json, ContractJson.Options)!;

        Assert.Equal("decode-2", snapshot.AppId);
        Assert.Equal(WorkerRole.Decode, snapshot.Role);
        Assert.Equal(0.25, snapshot.KvUsage);
        Assert.Equal(255, (int)MoeDapr.Model.PrefixBlockHash.ParseHex(snapshot.CachedBlockHashes![0]));
    }

    [Theory]
    [InlineData(0, 1f, 1f, null)]
    [InlineData(16, 2.5f, 1f, "temperature")]
    [InlineData(16, 1f, 0f, "topP")]
    [InlineData(16, 1f, 1f, "logprobs", 21)]
    public void Validate_SamplingParams_NamesTheFirstBadField(int maxTokens, float temperature, float topP, string? field, int? logprobs = null)
    {
        var error = new SamplingParams { MaxTokens = maxTokens, Temperature = temperature, TopP = topP, Logprobs = logprobs }.Validate();

        Assert.StartsWith(field ?? "maxTokens", error);
    }

    [Fact]
    public void Replica_SecondReplica_GetsSuffixedAppId()
    {
        Assert.Equal("prefill", AppIds.Replica(AppIds.Prefill, 1));
        Assert.Equal("prefill-2", AppIds.Replica(AppIds.Prefill, 2));
    }

    private static async Task<List<DecodeStreamEvent>> ReadAll(Stream stream)
    {
        var events = new List<DecodeStreamEvent>();
        await foreach (var e in DecodeStream.ReadAllAsync(stream, default))
        {
            events.Add(e);
        }

        return events;
    }

    /// <summary>Hands out a few bytes per read, like a network stream.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
    }
}
