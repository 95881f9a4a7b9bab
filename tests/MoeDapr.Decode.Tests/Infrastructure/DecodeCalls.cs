using System.Net.Http.Json;
using System.Text.Json;
using MoeDapr.Contracts;

namespace MoeDapr.Decode.Tests.Infrastructure;

/// <summary>Calls on decode's HTTP API as the router makes them, and what the tests read back.</summary>
public static class DecodeCalls
{
    /// <summary>Opens a <c>decode/generate</c> call; the answer's body is left to stream.</summary>
    public static Task<HttpResponseMessage> GenerateAsync(this HttpClient client, DecodeRequest request, CancellationToken cancellationToken = default)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(WorkerMethods.DecodeGenerate, UriKind.Relative))
        {
            Content = JsonContent.Create(request, options: ContractJson.Options),
        };
        return client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>Every line of a finished stream as it came over the wire, each parsed as one event.</summary>
    public static async Task<(string[] Lines, List<DecodeStreamEvent> Events)> ReadStreamAsync(this HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return (lines, lines.Select(l => JsonSerializer.Deserialize<DecodeStreamEvent>(l, ContractJson.Options)!).ToList());
    }

    /// <summary>A request that prefills locally (no KV handle, no first token).</summary>
    public static DecodeRequest LocalPrefill(string requestId, int[] prompt, SamplingParams sampling) =>
        new() { RequestId = requestId, PromptTokenIds = prompt, Sampling = sampling };

    /// <summary>Greedy sampling of <paramref name="maxTokens"/> tokens that EOS does not cut short.</summary>
    public static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };
}
