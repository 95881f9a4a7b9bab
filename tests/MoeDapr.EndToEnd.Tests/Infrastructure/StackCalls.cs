using System.Runtime.CompilerServices;
using MoeDapr.Engine;

namespace MoeDapr.EndToEnd.Tests.Infrastructure;

/// <summary>What every stack fixture does the same way: reference generation, decode streams, leaving the work folder.</summary>
public static class StackCalls
{
    /// <summary>Greedy output ids of an in-process engine, ending at EOS or <paramref name="maxTokens"/>.</summary>
    public static async Task<IReadOnlyList<int>> GreedyAsync(InferenceEngine engine, IReadOnlyList<int> prompt, int maxTokens)
    {
        var tokens = new List<int>();
        await foreach (var output in engine.GenerateAsync(new GenerateRequest
        {
            RequestId = Guid.NewGuid().ToString("N"),
            PromptTokens = prompt,
            Sampling = SamplingParams.Greedy(maxTokens),
        }))
        {
            if (output.TokenId >= 0)
            {
                tokens.Add(output.TokenId);
            }
        }

        return tokens;
    }

    /// <summary>Opens a decode call at <paramref name="generate"/> and yields its events as they arrive.</summary>
    public static async IAsyncEnumerable<DecodeStreamEvent> DecodeAsync(
        HttpClient http, Uri generate, DecodeRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, generate)
        {
            Content = JsonContent.Create(request, options: ContractJson.Options),
        };
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var e in DecodeStream.ReadAllAsync(body, cancellationToken))
        {
            yield return e;
        }
    }

    /// <summary>Deletes a fixture's folder; one still in use (a mapping closing) is left to the OS's temp cleanup.</summary>
    public static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS's temp cleanup.
        }
    }
}
