using MoeDapr.Contracts;

namespace MoeDapr.Engine.Tests;

internal static class EngineTestExtensions
{
    public static async Task<List<TokenOutput>> GenerateAllAsync(this InferenceEngine engine, GenerateRequest request, CancellationToken cancellationToken = default)
    {
        var outputs = new List<TokenOutput>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await foreach (var output in engine.GenerateAsync(request, timeout.Token))
        {
            outputs.Add(output);
        }

        return outputs;
    }

    public static Task<List<TokenOutput>> GenerateAllAsync(this InferenceEngine engine, string id, int[] prompt, SamplingParams sampling) =>
        engine.GenerateAllAsync(new GenerateRequest { RequestId = id, PromptTokens = prompt, Sampling = sampling });

    public static int[] Ids(this IEnumerable<TokenOutput> outputs) => outputs.Where(o => o.TokenId >= 0).Select(o => o.TokenId).ToArray();

    public static float MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
    }
}
