using System.Net.Http.Json;
using System.Text.Json;
using MoeDapr.Contracts;

namespace MoeDapr.Prefill.Tests.Infrastructure;

/// <summary>Calls on prefill's HTTP API as the router makes them, and what the tests read back.</summary>
public static class PrefillCalls
{
    /// <summary>Posts a <c>prefill/batch</c>.</summary>
    public static Task<HttpResponseMessage> PrefillAsync(this HttpClient client, PrefillBatchRequest batch) =>
        client.PostAsJsonAsync(new Uri(WorkerMethods.PrefillBatch, UriKind.Relative), batch, ContractJson.Options);

    /// <summary>Posts a batch that has to succeed and returns its answer.</summary>
    public static async Task<PrefillBatchResponse> PrefillOkAsync(this HttpClient client, params PrefillSequence[] sequences)
    {
        using var response = await client.PrefillAsync(Batch(sequences));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<PrefillBatchResponse>(ContractJson.Options))!;
    }

    public static PrefillBatchRequest Batch(params PrefillSequence[] sequences) => new() { BatchId = "batch-" + Guid.NewGuid().ToString("N")[..8], Sequences = sequences };

    public static PrefillSequence Sequence(string requestId, int[] prompt, int maxTokens = 8) =>
        new() { RequestId = requestId, PromptTokenIds = prompt, Sampling = new SamplingParams { Temperature = 0, MaxTokens = maxTokens } };

    /// <summary>The engine's KV handles prefill still holds (<c>GET prefill/stats</c>).</summary>
    public static async Task<int> EngineKvHandlesAsync(this HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>(new Uri("prefill/stats", UriKind.Relative))).GetProperty("kvHandles").GetInt32();
}
