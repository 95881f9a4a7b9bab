using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MoeDapr.Contracts;
using MoeDapr.Decode.Tests.Infrastructure;

namespace MoeDapr.Decode.Tests.Functional;

/// <summary>The NDJSON answer of <c>decode/generate</c> on a tiny model: its lines, their order, how it ends.</summary>
public sealed class GenerateStreamTests(DecodeFixture decode) : IClassFixture<DecodeFixture>
{
    private const int MaxTokens = 6;

    private async Task<List<int>> TokensAsync(string requestId, int[] prompt, SamplingParams sampling)
    {
        using var response = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill(requestId, prompt, sampling));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadStreamAsync()).Events.Where(e => e.Kind == DecodeEventKind.Token).Select(e => e.Token!.TokenId).ToList();
    }

    [Fact]
    public async Task Generate_LocalPrefill_OneJsonLinePerTokenThenDone()
    {
        var prompt = decode.Checkpoint.Prompt(9, salt: 1);

        using var response = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill("local", prompt, DecodeCalls.Greedy(MaxTokens)));
        var (lines, events) = await response.ReadStreamAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(DecodeStream.ContentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(MaxTokens + 1, lines.Length);
        Assert.All(lines, line => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(line).RootElement.ValueKind));
        var tokens = events.Take(MaxTokens).ToList();
        Assert.All(tokens, e => Assert.Equal(DecodeEventKind.Token, e.Kind));
        Assert.Equal(Enumerable.Range(0, MaxTokens), tokens.Select(e => e.Index!.Value));
        Assert.All(tokens, e => Assert.InRange(e.Token!.TokenId, 0, decode.Checkpoint.Config.VocabSize - 1));
        var done = events[^1];
        Assert.Equal(DecodeEventKind.Done, done.Kind);
        Assert.Equal(FinishReason.Length, done.FinishReason);
        Assert.Equal(prompt.Length, done.PromptTokens);
        Assert.Equal(MaxTokens, done.CompletionTokens);
    }

    [Fact]
    public async Task Generate_SeededSampling_SameSeedSameTokensOtherSeedOtherTokens()
    {
        var prompt = decode.Checkpoint.Prompt(11, salt: 2);
        var sampling = new SamplingParams { Temperature = 1, MaxTokens = 12, Seed = 5, IgnoreEos = true };

        var first = await TokensAsync("seeded-a", prompt, sampling);
        var again = await TokensAsync("seeded-b", prompt, sampling);
        var otherSeed = await TokensAsync("seeded-c", prompt, sampling with { Seed = 6 });

        Assert.Equal(sampling.MaxTokens, first.Count);
        Assert.Equal(first, again);
        Assert.NotEqual(first, otherSeed);
    }

    [Fact]
    public async Task Generate_FirstTokenWithoutKvHandle_PrefillsLocallyAndContinuesFromIndexOne()
    {
        // The router's retry after a failed KV path: the client already has output 0, so decode must not sample it again.
        var prompt = decode.Checkpoint.Prompt(10, salt: 4);
        var sampling = new SamplingParams { Temperature = 1, MaxTokens = 8, Seed = 9, IgnoreEos = true };
        var full = await TokensAsync("first-full", prompt, sampling);
        var request = DecodeCalls.LocalPrefill("first-given", prompt, sampling) with { FirstToken = new TokenSample { TokenId = full[0] } };

        using var response = await decode.Client.GenerateAsync(request);
        var (_, events) = await response.ReadStreamAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tokens = events.Where(e => e.Kind == DecodeEventKind.Token).ToList();
        Assert.Equal(Enumerable.Range(1, sampling.MaxTokens - 1), tokens.Select(e => e.Index!.Value));
        Assert.Equal(full.Skip(1), tokens.Select(e => e.Token!.TokenId));
        Assert.Equal(DecodeEventKind.Done, events[^1].Kind);
        Assert.Equal(sampling.MaxTokens, events[^1].CompletionTokens);
    }

    [Fact]
    public async Task Generate_SameRequestIdWhileRunning_409AndAbortEndsTheFirstStream()
    {
        var prompt = decode.Checkpoint.Prompt(8, salt: 3);
        // As long as the context allows: the stream is still running while the second call and the abort arrive.
        var sampling = DecodeCalls.Greedy(decode.ContextLength - prompt.Length);
        using var first = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill("twice", prompt, sampling));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await using var body = await first.Content.ReadAsStreamAsync();
        await using var events = DecodeStream.ReadAllAsync(body, CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(DecodeEventKind.Token, events.Current.Kind);

        using (var second = await decode.Client.GenerateAsync(DecodeCalls.LocalPrefill("twice", prompt, sampling)))
        {
            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
            Assert.StartsWith("requestId:", await second.ProblemDetailAsync(), StringComparison.Ordinal);
        }

        using var abort = await decode.Client.PostAsJsonAsync(new Uri(WorkerMethods.DecodeAbort, UriKind.Relative), new AbortRequest("twice"), ContractJson.Options);
        Assert.Equal(HttpStatusCode.NoContent, abort.StatusCode);
        var last = events.Current;
        while (await events.MoveNextAsync())
        {
            last = events.Current;
        }

        Assert.Equal(DecodeEventKind.Done, last.Kind);
        Assert.Equal(FinishReason.Abort, last.FinishReason);
        Assert.True(last.CompletionTokens < sampling.MaxTokens, $"{last.CompletionTokens} of {sampling.MaxTokens} tokens before the abort");
        await Poll.UntilAsync(async () => (await decode.Client.GetFromJsonAsync<JsonElement>(new Uri("decode/stats", UriKind.Relative))).GetProperty("activeCalls").GetInt32() == 0,
            "the aborted call to be closed");
    }
}
